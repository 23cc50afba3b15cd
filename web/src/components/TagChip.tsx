import type { TaskTag } from "../api/types";

/** Black or white text, whichever reads better on `color`. */
export function inkFor(color: string): string {
  const n = parseInt(color.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111827" : "#ffffff";
}

interface Props {
  tag: TaskTag;
  onClick?: () => void;
  label?: string;
}

export function TagChip({ tag, onClick, label }: Props) {
  const style = { background: tag.color, color: inkFor(tag.color) };
  if (onClick) {
    return (
      <button type="button" class="chip" style={style} onClick={onClick} aria-label={label}>
        {tag.name}
      </button>
    );
  }
  return (
    <span class="chip" style={style}>
      {tag.name}
    </span>
  );
}
