// One task in the list: done toggle, what it is at a glance, edit and delete.
import { useRef, useState } from "preact/hooks";
import type { Todo } from "../api/docket";
import type { Tag, Task } from "../api/types";
import { formatInstant, isOverdue, relative } from "../time";
import { ConfirmButton } from "./ConfirmButton";
import { ErrorMessage } from "./ErrorMessage";
import { PriorityBadge } from "./PriorityBadge";
import { TagChip } from "./TagChip";
import { TaskEditor } from "./TaskEditor";
import { useAction } from "./useAction";

interface Props {
  api: Todo;
  task: Task;
  tags: Tag[];
  onChanged: (task: Task) => void;
  onDeleted: (task: Task) => void;
  onTagFilter: (tagId: number) => void;
}

export function TaskItem({ api, task, tags, onChanged, onDeleted, onTagFilter }: Props) {
  const [editing, setEditing] = useState(false);
  const { busy, error, run } = useAction();
  const editButton = useRef<HTMLButtonElement>(null);
  const overdue = isOverdue(task.due_at, task.completed);

  const toggle = async () => {
    const saved = await run(() => api.toggleTask(task.id));
    if (saved) onChanged(saved);
  };
  const remove = async () => {
    const done = await run(async () => (await api.deleteTask(task.id, task.version), true));
    if (done) onDeleted(task);
  };
  const closeEditor = () => {
    setEditing(false);
    requestAnimationFrame(() => editButton.current?.focus());
  };

  const classes = ["task", `stripe-${task.priority.toLowerCase()}`];
  if (task.completed) classes.push("done");
  if (overdue) classes.push("overdue");

  return (
    <li class={classes.join(" ")} data-task-id={task.id}>
      <div class="task-row">
        <button
          type="button"
          class="check"
          aria-pressed={task.completed}
          aria-label={task.completed ? `Reopen ${task.title}` : `Complete ${task.title}`}
          title={task.completed ? "Reopen" : "Mark done"}
          aria-busy={busy}
          onClick={() => busy || toggle()}
        >
          <span aria-hidden="true">{task.completed ? "✓" : ""}</span>
        </button>
        <div class="task-body">
          <span class="task-title">{task.title}</span>
          <div class="meta">
            <PriorityBadge priority={task.priority} />
            {task.tags.map((tag) => (
              <TagChip key={tag.id} tag={tag} onClick={() => onTagFilter(tag.id)} label={`Show tasks tagged ${tag.name}`} />
            ))}
            {task.due_at && (
              <span class={overdue ? "due late" : "due"} title={formatInstant(task.due_at)}>
                {overdue ? "Overdue · " : "Due "}
                <time dateTime={task.due_at}>{relative(task.due_at)}</time>
              </span>
            )}
            {task.remind_at && !task.completed && (
              <span class="remind" title={`Reminder ${formatInstant(task.remind_at)}`}>
                <span aria-hidden="true">⏰</span> {formatInstant(task.remind_at)}
              </span>
            )}
            {task.recurring_task_id && <span class="hint">repeats</span>}
          </div>
          {task.description && !editing && <p class="description">{task.description}</p>}
        </div>
        <div class="task-actions">
          <button type="button" ref={editButton} aria-expanded={editing} onClick={() => setEditing(!editing)}>
            Edit<span class="visually-hidden"> {task.title}</span>
          </button>
          <ConfirmButton disabled={busy} onConfirm={remove} subject={task.title}>
            Delete
          </ConfirmButton>
        </div>
      </div>
      <ErrorMessage error={error} />
      {editing && (
        <TaskEditor
          api={api}
          task={task}
          tags={tags}
          onCancel={closeEditor}
          onSaved={(saved) => {
            onChanged(saved);
            closeEditor();
          }}
        />
      )}
    </li>
  );
}
