// A task in one line: type, Enter. Priority, due date and tags are optional.
import { useRef, useState } from "preact/hooks";
import type { Todo } from "../api/docket";
import type { Priority, Tag, Task } from "../api/types";
import { fromLocalInput } from "../time";
import { DueFields } from "./DueFields";
import { ErrorMessage } from "./ErrorMessage";
import { PrioritySelect } from "./PrioritySelect";
import { TagPicker } from "./TagPicker";
import { useAction } from "./useAction";

interface Props {
  api: Todo;
  tags: Tag[];
  onAdded: (task: Task) => void;
}

export function QuickAdd({ api, tags, onAdded }: Props) {
  const [title, setTitle] = useState("");
  const [priority, setPriority] = useState<Priority>("Medium");
  const [due, setDue] = useState("");
  const [remind, setRemind] = useState("");
  const [tagIds, setTagIds] = useState<number[]>([]);
  const { busy, error, run } = useAction();
  const input = useRef<HTMLInputElement>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    const task = await run(() =>
      api.createTask({
        title,
        priority,
        due_at: fromLocalInput(due),
        remind_at: fromLocalInput(remind),
        tag_ids: tagIds.length ? tagIds : undefined,
      }),
    );
    if (task) {
      setTitle("");
      setPriority("Medium");
      setDue("");
      setRemind("");
      setTagIds([]);
      onAdded(task);
    }
    input.current?.focus();
  };

  return (
    <form class="quick-add card" onSubmit={submit} aria-label="Add a task">
      <div class="row">
        <label class="grow">
          <span class="visually-hidden">New task</span>
          <input
            ref={input}
            id="new-task"
            placeholder="Add a task…"
            required
            maxLength={500}
            value={title}
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
        </label>
        <label>
          <span class="visually-hidden">Priority</span>
          <PrioritySelect value={priority} onChange={setPriority} id="new-task-priority" />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          Add
        </button>
      </div>
      <details>
        <summary>Due date and reminder</summary>
        <div class="row wrap">
          <DueFields due={due} remind={remind} onDue={setDue} onRemind={setRemind} />
        </div>
      </details>
      {tags.length > 0 && (
        <TagPicker tags={tags} selected={tagIds} onChange={setTagIds} label="Tags for the new task" />
      )}
      <ErrorMessage error={error} />
    </form>
  );
}
