// The todo API and the notification API, one function per operation.
import { call, request } from "./client";
import type {
  ChatReply,
  Conversation,
  Delivery,
  MailboxEntry,
  NewTask,
  NewTemplate,
  Preferences,
  Priority,
  Recurrence,
  Tag,
  Task,
  TaskChanges,
  Template,
  TokenResponse,
} from "./types";

const enc = encodeURIComponent;

export const auth = {
  signup: (username: string, password: string, email?: string) =>
    call<TokenResponse>("/api/auth/signup", {
      method: "POST",
      body: email ? { username, password, email } : { username, password },
      anonymous: true,
    }),
  login: (username: string, password: string) =>
    call<TokenResponse>("/api/auth/login", { method: "POST", body: { username, password }, anonymous: true }),
};

export interface TaskQuery {
  status?: "all" | "pending" | "completed";
  priority?: Priority[];
  tag?: number;
  overdue?: boolean;
  q?: string;
  sort?: "due" | "priority" | "created" | "title";
  order?: "asc" | "desc";
  limit?: number;
  offset?: number;
}

export interface TaskPage {
  tasks: Task[];
  total: number;
}

/** Every operation of one user's todo API. */
export function todo(user: string) {
  const base = `/api/${enc(user)}`;
  const ifMatch = (version?: number) => (version ? { "if-match": `"${version}"` } : undefined);
  return {
    async listTasks(query: TaskQuery, signal?: AbortSignal): Promise<TaskPage> {
      const { data, headers } = await request<Task[]>(`${base}/tasks`, {
        query: {
          ...query,
          priority: query.priority?.length ? query.priority.join(",") : undefined,
          overdue: query.overdue || undefined,
        },
        signal,
      });
      return { tasks: data, total: Number(headers.get("x-total-count") ?? data.length) };
    },
    createTask: (task: NewTask) => call<Task>(`${base}/tasks`, { method: "POST", body: task }),
    updateTask: (id: number, changes: TaskChanges, version?: number) =>
      call<Task>(`${base}/tasks/${id}`, { method: "PUT", body: changes, headers: ifMatch(version) }),
    toggleTask: (id: number) => call<Task>(`${base}/tasks/${id}/complete`, { method: "PATCH" }),
    deleteTask: (id: number, version?: number) =>
      call<void>(`${base}/tasks/${id}`, { method: "DELETE", headers: ifMatch(version) }),
    attachTag: (task: number, tag: number) => call<Task>(`${base}/tasks/${task}/tags/${tag}`, { method: "PUT" }),
    detachTag: (task: number, tag: number) => call<Task>(`${base}/tasks/${task}/tags/${tag}`, { method: "DELETE" }),

    listTags: () => call<Tag[]>(`${base}/tags`),
    createTag: (name: string, color: string) => call<Tag>(`${base}/tags`, { method: "POST", body: { name, color } }),
    updateTag: (id: number, changes: { name?: string; color?: string }) =>
      call<Tag>(`${base}/tags/${id}`, { method: "PATCH", body: changes }),
    deleteTag: (id: number) => call<void>(`${base}/tags/${id}`, { method: "DELETE" }),

    listTemplates: () => call<Template[]>(`${base}/recurring`),
    createTemplate: (template: NewTemplate) => call<Template>(`${base}/recurring`, { method: "POST", body: template }),
    setTemplateEnabled: (id: number, enabled: boolean) =>
      call<Template>(`${base}/recurring/${id}/${enabled ? "enable" : "disable"}`, { method: "POST" }),
    deleteTemplate: (id: number) => call<void>(`${base}/recurring/${id}`, { method: "DELETE" }),
    previewTemplate: (id: number, count = 5) =>
      call<{ occurrences: string[] }>(`${base}/recurring/${id}/preview`, { query: { count } }),
    previewRecurrence: (recurrence: Recurrence, count = 5, signal?: AbortSignal) =>
      call<{ occurrences: string[] }>(`${base}/recurring/preview`, {
        method: "POST",
        body: { recurrence, count },
        signal,
      }),

    chat: (message: string, conversationId: string | null, timezone: string) =>
      call<ChatReply>(`${base}/chat`, {
        method: "POST",
        body: conversationId ? { message, conversation_id: conversationId, timezone } : { message, timezone },
      }),
    conversation: (id: string) => call<Conversation>(`${base}/chat/${enc(id)}`),
    forgetConversation: (id: string) => call<void>(`${base}/chat/${enc(id)}`, { method: "DELETE" }),
  };
}

export type Todo = ReturnType<typeof todo>;

/** The notification service: the token says whose. */
export const notifications = {
  deliveries: (limit = 50) => call<Delivery[]>("/api/notifications/deliveries", { query: { limit } }),
  mailbox: (limit = 50) => call<MailboxEntry[]>("/api/notifications/mailbox", { query: { limit } }),
  preferences: () => call<Preferences>("/api/notifications/preferences"),
  savePreferences: (preferences: Preferences) =>
    call<Preferences>("/api/notifications/preferences", { method: "PUT", body: preferences }),
};
