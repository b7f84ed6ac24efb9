import type { ErrorFrame } from "../streaming/protocol";

export type StreamNotReadyReason = "timeout" | "error" | "closed";

/** Why a send could not wait for the stream. The message is written for the UI to show as is. */
export class StreamNotReadyError extends Error {
  override readonly name = "StreamNotReadyError";

  constructor(
    readonly reason: StreamNotReadyReason,
    detail?: string,
  ) {
    super(messageFor(reason, detail));
  }
}

function messageFor(reason: StreamNotReadyReason, detail: string | undefined): string {
  switch (reason) {
    case "timeout":
      return `Could not connect to the live stream${detail ? ` within ${detail}` : ""}. Check your connection and retry.`;
    case "error":
      return `Could not connect to the live stream${detail ? `: ${detail}` : ""}. Retry once the problem is fixed.`;
    case "closed":
      return "Could not connect to the live stream: it was closed. Reload the page or retry.";
  }
}

/** Server codes after which reconnecting cannot help until something changes (login, URL, access). */
export const TERMINAL_ERROR_CODES: ReadonlySet<ErrorFrame["code"]> = new Set(["NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "BAD_REQUEST"]);

/**
 * The most recent problem the stream saw. `server`: an error frame; `frame`: a frame that failed
 * validation (dropped); `transport`: a drop, silence or a server close; `reset`: the refetch after a
 * reset failed. Kept after recovery; the status says whether it still matters.
 */
export interface StreamError {
  readonly kind: "server" | "frame" | "transport" | "reset";
  readonly code: ErrorFrame["code"] | null;
  readonly message: string;
  readonly at: number;
}
