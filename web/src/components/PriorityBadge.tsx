import type { Priority } from "../api/types";

const MARK: Record<Priority, string> = { Low: "▽", Medium: "◇", High: "△", Critical: "▲" };

/** The priority as colour, shape and word, so it reads without colour too. */
export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <span class={`priority priority-${priority.toLowerCase()}`} title={`${priority} priority`}>
      <span aria-hidden="true">{MARK[priority]}</span> {priority}
    </span>
  );
}
