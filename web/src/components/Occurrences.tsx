import { formatOccurrence } from "../time";

interface Props {
  occurrences: string[] | null;
  timezone: string;
  label: string;
}

/** The next occurrences, in the template's timezone. */
export function Occurrences({ occurrences, timezone, label }: Props) {
  if (!occurrences) return null;
  if (occurrences.length === 0) return <p class="hint">No further occurrences.</p>;
  return (
    <ol class="occurrences" aria-label={label}>
      {occurrences.map((at) => (
        <li key={at}>
          <time dateTime={at}>{formatOccurrence(at, timezone)}</time>
        </li>
      ))}
    </ol>
  );
}
