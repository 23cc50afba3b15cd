// The task list: quick add, filters, and the matching tasks, kept in step
// with changes made elsewhere (the chat).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { TaskQuery, Todo } from "../api/docket";
import { messageOf } from "../api/client";
import type { Tag, Task } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { QuickAdd } from "../components/QuickAdd";
import { DEFAULT_FILTERS, TaskFilters, type Filters } from "../components/TaskFilters";
import { TaskItem } from "../components/TaskItem";
import { onTasksChanged } from "../events";

const PAGE = 50;

function toQuery(filters: Filters): TaskQuery {
  return {
    status: filters.view === "open" ? "pending" : filters.view === "done" ? "completed" : "all",
    overdue: filters.view === "overdue",
    priority: filters.priority ? [filters.priority] : undefined,
    tag: filters.tag ?? undefined,
    q: filters.q.trim() || undefined,
    sort: filters.sort,
    order: filters.order || undefined,
  };
}

interface Props {
  api: Todo;
  tags: Tag[];
}

export function TasksScreen({ api, tags }: Props) {
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [reloads, setReloads] = useState(0);
  const [search, setSearch] = useState(filters.q);
  const query = useMemo(() => toQuery({ ...filters, q: search }), [filters, search]);
  const latest = useRef(0);
  const list = useRef<HTMLUListElement>(null);
  // A task that leaves the list takes the focus with it; it goes to the
  // task that took its place (or the add box) instead.
  const refocus = useRef<{ id: number; index: number } | null>(null);

  useEffect(() => {
    const pending = refocus.current;
    if (!pending) return;
    if (tasks.some((t) => t.id === pending.id)) return;
    refocus.current = null;
    if (document.activeElement && document.activeElement !== document.body) return;
    const checks = list.current?.querySelectorAll<HTMLButtonElement>("button.check") ?? [];
    const target = checks[Math.min(pending.index, checks.length - 1)] ?? document.getElementById("new-task");
    target?.focus();
  }, [tasks]);

  // Typing in the search box waits for a pause before asking the server.
  useEffect(() => {
    const timer = setTimeout(() => setSearch(filters.q), 250);
    return () => clearTimeout(timer);
  }, [filters.q]);

  useEffect(() => onTasksChanged(() => setReloads((n) => n + 1)), []);
  useEffect(() => {
    const tick = setInterval(() => setReloads((n) => n + 1), 30000);
    return () => clearInterval(tick);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    const request = ++latest.current;
    setLoading(true);
    api
      .listTasks({ ...query, limit: PAGE }, controller.signal)
      .then((page) => {
        if (request !== latest.current) return;
        setTasks(page.tasks);
        setTotal(page.total);
        setError(null);
      })
      .catch((failure) => {
        if (!controller.signal.aborted) setError(messageOf(failure));
      })
      .finally(() => request === latest.current && setLoading(false));
    return () => controller.abort();
  }, [api, query, reloads]);

  const more = async () => {
    try {
      const page = await api.listTasks({ ...query, limit: PAGE, offset: tasks.length });
      setTasks([...tasks, ...page.tasks]);
      setTotal(page.total);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  const reload = () => setReloads((n) => n + 1);
  const tagName = tags.find((t) => t.id === filters.tag)?.name;

  return (
    <section aria-labelledby="tasks-heading">
      <h1 id="tasks-heading" tabIndex={-1}>
        Tasks
      </h1>
      <QuickAdd
        api={api}
        tags={tags}
        onAdded={(task) => {
          setStatus(`Added “${task.title}”.`);
          reload();
        }}
      />
      <TaskFilters filters={filters} tags={tags} onChange={setFilters} />
      <p class="summary" aria-live="polite">
        {loading ? "Loading…" : `${total} ${total === 1 ? "task" : "tasks"}`}
        {tagName && (
          <>
            {" "}
            tagged <strong>{tagName}</strong>{" "}
            <button type="button" class="link" onClick={() => setFilters({ ...filters, tag: null })}>
              clear tag filter
            </button>
          </>
        )}
        <span class="visually-hidden"> {status}</span>
      </p>
      <ErrorMessage error={error} />
      {!loading && tasks.length === 0 && !error && <p class="empty">Nothing here. Add a task above.</p>}
      <ul class="tasks" ref={list}>
        {tasks.map((task) => (
          <TaskItem
            key={task.id}
            api={api}
            task={task}
            tags={tags}
            onChanged={(saved) => {
              refocus.current = { id: saved.id, index: tasks.findIndex((t) => t.id === saved.id) };
              setStatus(`${saved.completed ? "Completed" : "Updated"} “${saved.title}”.`);
              setTasks(tasks.map((t) => (t.id === saved.id ? saved : t)));
              reload();
            }}
            onDeleted={(gone) => {
              refocus.current = { id: gone.id, index: tasks.findIndex((t) => t.id === gone.id) };
              setStatus(`Deleted “${gone.title}”.`);
              setTasks(tasks.filter((t) => t.id !== gone.id));
              reload();
            }}
            onTagFilter={(tag) => setFilters({ ...filters, tag })}
          />
        ))}
      </ul>
      {tasks.length < total && (
        <button type="button" onClick={more}>
          Show more
        </button>
      )}
    </section>
  );
}
