import { PRIORITIES, type Priority } from "../api/types";

interface Props {
  value: Priority;
  onChange: (priority: Priority) => void;
  id?: string;
}

export function PrioritySelect({ value, onChange, id }: Props) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as Priority)}>
      {PRIORITIES.map((p) => (
        <option key={p} value={p}>
          {p}
        </option>
      ))}
    </select>
  );
}
