// Who is signed in. The token lives in sessionStorage: it survives a reload
// of the tab and is gone when the browser session ends.
import { useEffect, useState } from "preact/hooks";
import { configure } from "./api/client";
import type { TokenResponse } from "./api/types";

export interface Session {
  user: string;
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const KEY = "docket.session";
const listeners = new Set<() => void>();
let current: Session | null = load();

function load(): Session | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Session | null;
    return saved && saved.expiresAt > Date.now() ? saved : null;
  } catch {
    return null;
  }
}

function set(session: Session | null): void {
  current = session;
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((listener) => listener());
}

export function signIn(reply: TokenResponse): void {
  set({ user: reply.user_id, token: reply.access_token, expiresAt: Date.now() + reply.expires_in * 1000 });
}

export function signOut(): void {
  set(null);
}

export function session(): Session | null {
  if (current && current.expiresAt <= Date.now()) set(null);
  return current;
}

export function useSession(): Session | null {
  const [, rerender] = useState(0);
  useEffect(() => {
    const listener = () => rerender((n) => n + 1);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
  return session();
}

configure(() => session()?.token ?? null, signOut);
