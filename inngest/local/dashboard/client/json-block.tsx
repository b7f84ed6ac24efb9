import { useState } from "react";
import { preview } from "./format";

/** A JSON value, truncated with a button to show all of it. */
export function JsonBlock({ value, label, testId }: { value: unknown; label: string; testId?: string }) {
  const [open, setOpen] = useState(false);
  const { text, truncated, full } = preview(value);
  return (
    <div data-testid={testId}>
      <pre aria-label={label}>{open ? full : text}</pre>
      {truncated && (
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} data-testid={testId ? `${testId}-toggle` : undefined}>
          {open ? "Show less" : `Show all (${full.length} characters)`}
        </button>
      )}
    </div>
  );
}

export function Status({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className="status" data-status={status} data-testid={testId}>
      {status}
    </span>
  );
}
