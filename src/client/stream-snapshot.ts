import type { RunSnapshot } from "./run-snapshot";
import { fromSnapshot, listRuns, type RunState, type RunView } from "./run-state";
import type { StreamError } from "./stream-errors";

/**
 * `connecting`: first connection, not yet ready. `ready`: the server's `ready` frame arrived (never
 * mere socket open). `reconnecting`: dropped after having been ready, waiting or reconnecting.
 * `catching-up`: reconnected and receiving the replayed gap, `ready` not yet arrived.
 * `error`: the server refused for good (e.g. NOT_FOUND); only `retry()` leaves it.
 */
export type StreamStatus = "connecting" | "ready" | "reconnecting" | "catching-up" | "error";

/** Immutable view of the client for `useSyncExternalStore`: a new object only when something changed. */
export interface StreamSnapshot {
  readonly status: StreamStatus;
  readonly connectionId: string | null;
  /** The last applied position; what a reconnect sends as `?cursor=`. */
  readonly cursor: string | null;
  readonly runState: RunState;
  /** Runs in start order. */
  readonly runs: readonly RunView[];
  readonly lastError: StreamError | null;
  /** How many progress events this client applied (duplicates not counted). */
  readonly applied: number;
}

/** What a page shows before its client exists (server render, first client render). */
export function initialStreamSnapshot(cursor: string | null, runs: readonly RunSnapshot[]): StreamSnapshot {
  const runState = fromSnapshot(runs);
  return Object.freeze({
    status: "connecting",
    connectionId: null,
    cursor,
    runState,
    runs: Object.freeze(listRuns(runState)),
    lastError: null,
    applied: 0,
  });
}
