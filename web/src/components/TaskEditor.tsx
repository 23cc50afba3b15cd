// Every field of a task; Save sends only what changed, guarded by the version.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Todo } from "../api/docket";
import type { Priority, Tag, Task, TaskChanges } from "../api/types";
import { fromLocalInput, toLocalInput } from "../time";
import { DueFields } from "./DueFields";
import { ErrorMessage } from "./ErrorMessage";
import { PrioritySelect } from "./PrioritySelect";
import { TagPicker } from "./TagPicker";
import { useAction } from "./useAction";

interface Props {
  api: Todo;
  task: Task;
  tags: Tag[];
  onSaved: (task: Task) => void;
  onCancel: () => void;
}

export function TaskEditor({ api, task, tags, onSaved, onCancel }: Props) {
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description);
  const [priority, setPriority] = useState<Priority>(task.priority);
  const [due, setDue] = useState(toLocalInput(task.due_at));
  const [remind, setRemind] = useState(toLocalInput(task.remind_at));
  const [tagIds, setTagIds] = useState(task.tags.map((t) => t.id));
  const { busy, error, run } = useAction();
  const first = useRef<HTMLInputElement>(null);
  const prefix = `edit-${task.id}`;

  useEffect(() => first.current?.focus(), []);

  const changes = (): TaskChanges => {
    const out: TaskChanges = {};
    if (title !== task.title) out.title = title;
    if (description !== task.description) out.description = description;
    if (priority !== task.priority) out.priority = priority;
    if (due !== toLocalInput(task.due_at)) out.due_at = fromLocalInput(due) ?? null;
    if (remind !== toLocalInput(task.remind_at)) out.remind_at = fromLocalInput(remind) ?? null;
    const before = task.tags.map((t) => t.id).sort().join();
    if ([...tagIds].sort().join() !== before) out.tag_ids = tagIds;
    return out;
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const body = changes();
    if (Object.keys(body).length === 0) return onCancel();
    const saved = await run(() => api.updateTask(task.id, body, task.version));
    if (saved) onSaved(saved);
  };

  return (
    <form
      class="editor"
      onSubmit={submit}
      onKeyDown={(e) => e.key === "Escape" && onCancel()}
      aria-label={`Edit ${task.title}`}
    >
      <label for={`${prefix}-title`}>Title</label>
      <input
        ref={first}
        id={`${prefix}-title`}
        required
        maxLength={500}
        value={title}
        onInput={(e) => setTitle(e.currentTarget.value)}
      />
      <label for={`${prefix}-description`}>Notes</label>
      <textarea
        id={`${prefix}-description`}
        rows={3}
        maxLength={10000}
        value={description}
        onInput={(e) => setDescription(e.currentTarget.value)}
      />
      <div class="row wrap">
        <label>
          Priority
          <PrioritySelect value={priority} onChange={setPriority} />
        </label>
        <DueFields due={due} remind={remind} onDue={setDue} onRemind={setRemind} />
      </div>
      <TagPicker tags={tags} selected={tagIds} onChange={setTagIds} label={`Tags of ${task.title}`} />
      <ErrorMessage error={error} />
      <div class="row">
        <button class="primary" type="submit" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
