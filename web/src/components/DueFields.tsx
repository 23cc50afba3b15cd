// A task's due date and reminder, as local date-times.
interface Props {
  due: string;
  remind: string;
  onDue: (value: string) => void;
  onRemind: (value: string) => void;
}

export function DueFields({ due, remind, onDue, onRemind }: Props) {
  return (
    <>
      <label>
        Due
        <input type="datetime-local" value={due} onInput={(e) => onDue(e.currentTarget.value)} />
      </label>
      <label>
        Remind me
        <input type="datetime-local" value={remind} onInput={(e) => onRemind(e.currentTarget.value)} />
      </label>
    </>
  );
}
