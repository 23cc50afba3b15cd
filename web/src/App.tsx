// The signed-in shell: navigation, the current screen, the assistant panel.
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { messageOf } from "./api/client";
import { todo } from "./api/docket";
import type { Tag } from "./api/types";
import { ChatPanel } from "./components/ChatPanel";
import { ErrorMessage } from "./components/ErrorMessage";
import { onTasksChanged } from "./events";
import { useRoute, type Route } from "./route";
import { AuthScreen } from "./screens/AuthScreen";
import { NotificationsScreen } from "./screens/NotificationsScreen";
import { TagsScreen } from "./screens/TagsScreen";
import { TasksScreen } from "./screens/TasksScreen";
import { TemplatesScreen } from "./screens/TemplatesScreen";
import { signOut, useSession } from "./session";

const NAV: [Route, string][] = [
  ["tasks", "Tasks"],
  ["recurring", "Recurring"],
  ["tags", "Tags"],
  ["notifications", "Notifications"],
];

const CHAT_OPEN = "docket.chat.open";

export function App() {
  const session = useSession();
  if (!session) return <AuthScreen />;
  return <Shell key={session.user} user={session.user} />;
}

function Shell({ user }: { user: string }) {
  const api = useMemo(() => todo(user), [user]);
  const route = useRoute();
  const [tags, setTags] = useState<Tag[]>([]);
  const [tagError, setTagError] = useState<string | null>(null);
  const [chatOpen, setChatOpen] = useState(() => localStorage.getItem(CHAT_OPEN) === "1");

  const loadTags = useCallback(() => {
    api
      .listTags()
      .then((list) => {
        setTags(list);
        setTagError(null);
      })
      .catch((failure) => setTagError(messageOf(failure)));
  }, [api]);
  useEffect(loadTags, [loadTags]);
  useEffect(() => onTasksChanged(loadTags), [loadTags]);

  // A new screen takes the focus to its heading, as a page load would.
  useEffect(() => {
    document.querySelector<HTMLElement>("main h1")?.focus();
    document.title = `${NAV.find(([r]) => r === route)?.[1]} · Docket`;
  }, [route]);

  const toggleChat = (open: boolean) => {
    localStorage.setItem(CHAT_OPEN, open ? "1" : "0");
    setChatOpen(open);
    if (!open) requestAnimationFrame(() => document.getElementById("chat-toggle")?.focus());
  };

  return (
    <div class={`shell${chatOpen ? " with-chat" : ""}`}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.querySelector<HTMLElement>("main h1")?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Docket</span>
        <nav aria-label="Main">
          {NAV.map(([target, label]) => (
            <a key={target} href={`#/${target}`} aria-current={route === target ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div class="account">
          <button
            type="button"
            id="chat-toggle"
            aria-expanded={chatOpen}
            aria-controls="chat-panel"
            onClick={() => toggleChat(!chatOpen)}
          >
            Assistant
          </button>
          <span class="user" title="Signed in as">
            {user}
          </span>
          <button type="button" onClick={signOut}>
            Log out
          </button>
        </div>
      </header>
      <main id="main">
        <ErrorMessage error={tagError} />
        {route === "tasks" && <TasksScreen api={api} tags={tags} />}
        {route === "recurring" && <TemplatesScreen api={api} tags={tags} />}
        {route === "tags" && <TagsScreen api={api} tags={tags} onChanged={loadTags} />}
        {route === "notifications" && <NotificationsScreen />}
      </main>
      {chatOpen && (
        <div id="chat-panel" class="chat-slot">
          <ChatPanel api={api} user={user} onClose={() => toggleChat(false)} />
        </div>
      )}
    </div>
  );
}
