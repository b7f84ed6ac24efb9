import type { ProgressEvent } from "../streaming/protocol";

/**
 * A tab's view of its stream, for tests that check what the tab did (nothing lost, nothing twice,
 * in order) without the page carrying that record. Off by default: production installs nothing,
 * and the client then calls nothing. Tests install one before any page script runs (Playwright:
 * e2e/support/stream-recorder.ts) or pass one to the client (`observer` option).
 *
 * It reports where the tab receives and applies progress frames, whatever carries them to the tab
 * (an EventSource today; a connection shared by tabs later), so it stays true when the transport moves.
 */
export interface ObservedFrame {
  /** The SSE id (the log cursor after this event). */
  readonly id: string;
  /** The dedupe key: runId + step + sequence. */
  readonly key: string;
  readonly type: ProgressEvent["type"];
  /** False when the tab dropped it as a duplicate (an id already seen, or a re-emitted key). */
  readonly applied: boolean;
}

export type StreamObserver = (projectId: string, frame: ObservedFrame) => void;

/** Where an init script installs an observer: `globalThis[Symbol.for("genstream.streamObserver")]`. */
export const STREAM_OBSERVER_KEY = Symbol.for("genstream.streamObserver");

/** The observer an init script installed, if any. Read once per stream client. */
export function installedStreamObserver(): StreamObserver | undefined {
  const installed: unknown = Reflect.get(globalThis, STREAM_OBSERVER_KEY);
  return typeof installed === "function" ? (installed as StreamObserver) : undefined;
}
