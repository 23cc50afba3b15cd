// Which tasks to show and in what order.
import { PRIORITIES, type Priority, type Tag } from "../api/types";

export type View = "all" | "open" | "done" | "overdue";
export type SortKey = "created" | "due" | "priority" | "title";

export interface Filters {
  view: View;
  priority: Priority | "";
  tag: number | null;
  q: string;
  sort: SortKey;
  order: "asc" | "desc" | "";
}

export const DEFAULT_FILTERS: Filters = { view: "open", priority: "", tag: null, q: "", sort: "created", order: "" };

const VIEWS: [View, string][] = [
  ["open", "Open"],
  ["done", "Done"],
  ["overdue", "Overdue"],
  ["all", "All"],
];

interface Props {
  filters: Filters;
  tags: Tag[];
  onChange: (filters: Filters) => void;
}

export function TaskFilters({ filters, tags, onChange }: Props) {
  const set = (changes: Partial<Filters>) => onChange({ ...filters, ...changes });
  return (
    <div class="filters" role="search" aria-label="Filter tasks">
      <div class="segmented" role="group" aria-label="Show">
        {VIEWS.map(([view, label]) => (
          <button key={view} type="button" aria-pressed={filters.view === view} onClick={() => set({ view })}>
            {label}
          </button>
        ))}
      </div>
      <label>
        <span class="visually-hidden">Search</span>
        <input
          type="search"
          placeholder="Search…"
          maxLength={200}
          value={filters.q}
          onInput={(e) => set({ q: e.currentTarget.value })}
        />
      </label>
      <label>
        Priority
        <select
          id="filter-priority"
          value={filters.priority}
          onChange={(e) => set({ priority: e.currentTarget.value as Priority | "" })}
        >
          <option value="">Any</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label>
        Tag
        <select
          id="filter-tag"
          value={filters.tag ?? ""}
          onChange={(e) => set({ tag: e.currentTarget.value ? Number(e.currentTarget.value) : null })}
        >
          <option value="">Any</option>
          {tags.map((tag) => (
            <option key={tag.id} value={tag.id}>
              {tag.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Sort
        <select id="filter-sort" value={filters.sort} onChange={(e) => set({ sort: e.currentTarget.value as SortKey })}>
          <option value="created">Newest</option>
          <option value="due">Due date</option>
          <option value="priority">Priority</option>
          <option value="title">Title</option>
        </select>
      </label>
      <button
        type="button"
        aria-label={filters.order === "asc" ? "Sorted ascending; reverse" : "Reverse the order"}
        aria-pressed={filters.order !== ""}
        onClick={() => set({ order: filters.order ? "" : filters.sort === "created" || filters.sort === "priority" ? "asc" : "desc" })}
      >
        <span aria-hidden="true">⇅</span>
      </button>
    </div>
  );
}
