import type { Tag } from "../api/types";
import { inkFor } from "./TagChip";

interface Props {
  tags: Tag[];
  selected: number[];
  onChange: (selected: number[]) => void;
  label?: string;
}

/** Tags as toggle buttons: Tab to one, Enter or Space to attach or detach it. */
export function TagPicker({ tags, selected, onChange, label = "Tags" }: Props) {
  if (tags.length === 0) return <p class="hint">No tags yet; create them under Tags.</p>;
  const toggle = (id: number) =>
    onChange(selected.includes(id) ? selected.filter((t) => t !== id) : [...selected, id]);
  return (
    <div class="tag-picker" role="group" aria-label={label}>
      {tags.map((tag) => {
        const on = selected.includes(tag.id);
        return (
          <button
            key={tag.id}
            type="button"
            class={`chip toggle${on ? " on" : ""}`}
            aria-pressed={on}
            style={on ? { background: tag.color, color: inkFor(tag.color), borderColor: tag.color } : { borderColor: tag.color }}
            onClick={() => toggle(tag.id)}
          >
            {on ? "✓ " : ""}
            {tag.name}
          </button>
        );
      })}
    </div>
  );
}
