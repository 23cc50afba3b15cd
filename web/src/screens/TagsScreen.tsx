// Tags: create, rename, recolour, delete.
import { useState } from "preact/hooks";
import type { Todo } from "../api/docket";
import type { Tag } from "../api/types";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorMessage } from "../components/ErrorMessage";
import { useAction } from "../components/useAction";

const PALETTE = ["#ef4444", "#f97316", "#eab308", "#22c55e", "#06b6d4", "#3b82f6", "#8b5cf6", "#ec4899", "#64748b"];

interface Props {
  api: Todo;
  tags: Tag[];
  onChanged: () => void;
}

export function TagsScreen({ api, tags, onChanged }: Props) {
  const [name, setName] = useState("");
  const [color, setColor] = useState(PALETTE[tags.length % PALETTE.length]);
  const { busy, error, run } = useAction();

  const create = async (event: Event) => {
    event.preventDefault();
    const tag = await run(() => api.createTag(name.trim(), color));
    if (tag) {
      setName("");
      setColor(PALETTE[(tags.length + 1) % PALETTE.length]);
      onChanged();
    }
  };

  return (
    <section aria-labelledby="tags-heading">
      <h1 id="tags-heading" tabIndex={-1}>
        Tags
      </h1>
      <form class="card row wrap" onSubmit={create} aria-label="New tag">
        <label class="grow">
          Name
          <input id="new-tag" required maxLength={50} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Colour
          <input type="color" value={color} onInput={(e) => setColor(e.currentTarget.value)} />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          Create tag
        </button>
        <ErrorMessage error={error} />
      </form>
      {tags.length === 0 ? (
        <p class="empty">No tags yet.</p>
      ) : (
        <ul class="tag-list">
          {tags.map((tag) => (
            <TagRow key={tag.id} api={api} tag={tag} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </section>
  );
}

function TagRow({ api, tag, onChanged }: { api: Todo; tag: Tag; onChanged: () => void }) {
  const [name, setName] = useState(tag.name);
  const { busy, error, run } = useAction();

  const save = async (changes: { name?: string; color?: string }) => {
    if (await run(() => api.updateTag(tag.id, changes))) onChanged();
  };
  const rename = (event: Event) => {
    event.preventDefault();
    if (name.trim() !== tag.name) save({ name: name.trim() });
  };
  const remove = async () => {
    if (await run(async () => (await api.deleteTag(tag.id), true))) onChanged();
  };

  return (
    <li class="tag-row">
      <form class="row wrap" onSubmit={rename} aria-label={`Tag ${tag.name}`}>
        <label>
          <span class="visually-hidden">Colour of {tag.name}</span>
          <input type="color" value={tag.color} onChange={(e) => save({ color: e.currentTarget.value })} />
        </label>
        <label class="grow">
          <span class="visually-hidden">Name of {tag.name}</span>
          <input required maxLength={50} value={name} onInput={(e) => setName(e.currentTarget.value)} onBlur={rename} />
        </label>
        <button type="submit" disabled={busy || name.trim() === tag.name}>
          Rename
        </button>
        <ConfirmButton disabled={busy} onConfirm={remove} subject={`tag ${tag.name}`}>
          Delete
        </ConfirmButton>
      </form>
      <ErrorMessage error={error} />
    </li>
  );
}
