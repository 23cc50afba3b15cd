// A destructive action in two presses: the first asks, the second acts.
// Leaving the button (blur, Escape) takes the question back.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

interface Props {
  onConfirm: () => void;
  disabled?: boolean;
  /** What is being acted on, for screen readers ("Buy milk"). */
  subject: string;
  children: ComponentChildren;
}

export function ConfirmButton({ onConfirm, disabled, subject, children }: Props) {
  const [asking, setAsking] = useState(false);
  return (
    <button
      type="button"
      class={asking ? "danger asking" : "danger"}
      disabled={disabled}
      onClick={() => {
        if (asking) {
          setAsking(false);
          onConfirm();
        } else setAsking(true);
      }}
      onBlur={() => setAsking(false)}
      onKeyDown={(e) => e.key === "Escape" && setAsking(false)}
    >
      {asking ? "Really delete?" : children}
      <span class="visually-hidden"> {subject}</span>
    </button>
  );
}
