// The one place that talks HTTP: JSON in and out, the bearer token, and
// RFC 9457 problem details turned into an ApiError with words for a person.

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  field?: string;
  [member: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(describe(problem));
    this.name = "ApiError";
    this.status = problem.status;
    this.problem = problem;
  }

  get field(): string | undefined {
    return this.problem.field;
  }
}

/** A sentence for the user: the detail, capitalised, with the title as fallback. */
export function describe(problem: Problem): string {
  const detail = problem.detail?.trim();
  if (!detail) return problem.title || `Request failed (${problem.status})`;
  return detail.charAt(0).toUpperCase() + detail.slice(1) + (/[.!?]$/.test(detail) ? "" : ".");
}

/** Any thrown value as words. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "The server could not be reached. Check your connection and try again.";
  if (error instanceof Error) return error.message;
  return String(error);
}

type TokenSource = () => string | null;
type Unauthorized = () => void;

let token: TokenSource = () => null;
let onUnauthorized: Unauthorized = () => {};

/** Wires the session in: where the token comes from and what a 401 does. */
export function configure(source: TokenSource, unauthorized: Unauthorized): void {
  token = source;
  onUnauthorized = unauthorized;
}

export interface Options {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Leave the session alone on 401 (login and signup answer 401 for wrong credentials). */
  anonymous?: boolean;
}

export interface Reply<T> {
  data: T;
  headers: Headers;
}

export async function request<T>(path: string, options: Options = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  const bearer = options.anonymous ? null : token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(path + queryString(options.query), {
    method: options.method ?? "GET",
    headers,
    body,
    signal: options.signal,
  });
  if (!response.ok) {
    const problem = await readProblem(response);
    if (response.status === 401 && bearer) onUnauthorized();
    throw new ApiError(problem);
  }
  const text = response.status === 204 ? "" : await response.text();
  return { data: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

export async function call<T>(path: string, options: Options = {}): Promise<T> {
  return (await request<T>(path, options)).data;
}

function queryString(query: Options["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function readProblem(response: Response): Promise<Problem> {
  const fallback: Problem = { title: response.statusText || "Error", status: response.status };
  try {
    const value = await response.json();
    if (value && typeof value === "object" && "status" in value) return { ...fallback, ...value };
  } catch {
    // Not JSON (a proxy's page, an empty body): the status line is all there is.
  }
  return fallback;
}
