import type { StreamStatus } from "@/hooks/use-generation-stream";
import type { StreamHolderKind } from "@/src/client/shared-stream/connect";

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

/** Says who carries this tab's live stream, for the curious (hover). */
function holderTitle(holder: StreamHolderKind): string {
  switch (holder) {
    case "shared-worker":
      return "One connection for every tab of this browser, held by a shared worker";
    case "leader-tab":
      return "One connection for every tab of this browser, held by one of its tabs";
    case "this-tab":
      return "This tab's own connection (the browser cannot share one between tabs)";
    default: {
      const unreachable: never = holder;
      return unreachable;
    }
  }
}

export function ConnectionIndicator({
  status,
  holder,
  error,
  onRetry,
}: {
  status: StreamStatus;
  holder: StreamHolderKind | null;
  error: string | null;
  onRetry: () => void;
}) {
  return (
    <span
      className="indicator"
      data-testid="connection-status"
      data-status={status}
      data-holder={holder ?? undefined}
      title={holder ? holderTitle(holder) : undefined}
      role="status"
      aria-live="polite"
    >
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
