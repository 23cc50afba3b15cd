import type { TaskTag } from "../api/types";

/** WCAG relative luminance of `#rrggbb`. */
function luminance(color: string): number {
  const n = parseInt(color.slice(1), 16);
  const channel = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/** Black or white text, whichever has the higher contrast on `color`. */
export function inkFor(color: string): string {
  const l = luminance(color);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#ffffff";
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
