import type { StreamStatus } from "@/hooks/use-generation-stream";

function label(status: StreamStatus): string {
  switch (status) {
    case "connecting":
      return "Connecting…";
    case "ready":
      return "Live";
    case "reconnecting":
      return "Reconnecting…";
    case "catching-up":
      return "Catching up…";
    case "error":
      return "Disconnected";
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

export function ConnectionIndicator({ status, error, onRetry }: { status: StreamStatus; error: string | null; onRetry: () => void }) {
  return (
    <span className="indicator" data-testid="connection-status" data-status={status} role="status" aria-live="polite">
      <span className={`dot ${status}`} aria-hidden />
      {label(status)}
      {status === "error" && (
        <>
          {error && (
            <span className="error" data-testid="connection-error">
              {error}
            </span>
          )}
          <button type="button" data-testid="retry-connection" onClick={onRetry}>
            Retry
          </button>
        </>
      )}
    </span>
  );
}
