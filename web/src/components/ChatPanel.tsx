// The task assistant. The conversation id is kept in localStorage, so the
// history (kept by the server) comes back after a reload.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { Todo } from "../api/docket";
import type { ChatMessage } from "../api/types";
import { tasksChanged } from "../events";
import { localZone } from "../time";
import { ErrorMessage } from "./ErrorMessage";
import { useAction } from "./useAction";

interface Props {
  api: Todo;
  user: string;
  onClose: () => void;
}

// Every tool but the listings changes something the other screens show.
const READ_ONLY_TOOL = /^list_/;

export function ChatPanel({ api, user, onClose }: Props) {
  const key = `docket.chat.${user}`;
  const [conversation, setConversation] = useState<string | null>(() => localStorage.getItem(key));
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [text, setText] = useState("");
  const { busy, error, run } = useAction();
  const log = useRef<HTMLOListElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  const remember = (id: string | null) => {
    if (id) localStorage.setItem(key, id);
    else localStorage.removeItem(key);
    setConversation(id);
  };

  useEffect(() => {
    input.current?.focus();
    if (!conversation) return;
    run(async () => {
      try {
        setMessages((await api.conversation(conversation)).messages);
      } catch (failure) {
        // A conversation the server no longer has starts over.
        if (failure instanceof ApiError && failure.status === 404) remember(null);
        else throw failure;
      }
    });
  }, [api]);

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: "end" });
  }, [messages]);

  const send = async (event: Event) => {
    event.preventDefault();
    const message = text.trim();
    if (!message) return;
    setText("");
    const mine: ChatMessage = { role: "user", content: message, at: new Date().toISOString() };
    setMessages((all) => [...all, mine]);
    const reply = await run(() => api.chat(message, conversation, localZone));
    if (!reply) {
      setText(message);
      setMessages((all) => all.filter((m) => m !== mine));
      return;
    }
    remember(reply.conversation_id);
    setMessages((all) => [
      ...all,
      { role: "assistant", content: reply.response, tool_calls: reply.tool_calls, at: new Date().toISOString() },
    ]);
    if (reply.tool_calls.some((call) => call.ok && !READ_ONLY_TOOL.test(call.name))) tasksChanged();
    input.current?.focus();
  };

  const forget = async () => {
    if (conversation) await run(() => api.forgetConversation(conversation).catch(() => undefined));
    remember(null);
    setMessages([]);
    input.current?.focus();
  };

  return (
    <aside class="chat" aria-labelledby="chat-heading">
      <div class="row spread">
        <h2 id="chat-heading">Assistant</h2>
        <div class="row">
          <button type="button" onClick={forget} disabled={busy || messages.length === 0}>
            New chat
          </button>
          <button type="button" onClick={onClose} aria-label="Close the assistant">
            ✕
          </button>
        </div>
      </div>
      <ol class="messages" ref={log} aria-live="polite" aria-label="Conversation">
        {messages.length === 0 && (
          <li class="hint">Try “add call mom tomorrow”, “what is due this week?” or “complete task 3”.</li>
        )}
        {messages.map((m, i) => (
          <li key={i} class={`message ${m.role}`}>
            <span class="visually-hidden">{m.role === "user" ? "You:" : "Assistant:"} </span>
            {m.content}
          </li>
        ))}
        {busy && <li class="message assistant pending">…</li>}
      </ol>
      <ErrorMessage error={error} />
      <form class="chat-form" onSubmit={send}>
        <label for="chat-input" class="visually-hidden">
          Message
        </label>
        <textarea
          id="chat-input"
          ref={input}
          rows={2}
          maxLength={4000}
          placeholder="Ask or tell…"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) send(e);
          }}
        />
        <button class="primary" type="submit" disabled={busy || !text.trim()}>
          Send
        </button>
      </form>
    </aside>
  );
}
