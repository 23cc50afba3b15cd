// An API error in words, announced to screen readers as it appears.
interface Props {
  error: string | null;
  id?: string;
}

export function ErrorMessage({ error, id }: Props) {
  return (
    <p class="error" id={id} role="alert" aria-live="assertive" hidden={!error}>
      {error}
    </p>
  );
}
