import type { IncomingMessage } from "node:http";
import type { CircuitState } from "../lib/circuit-breaker";
import type { Cursor, LoggedEvent, ProgressEvent } from "./protocol";

/** Result of reading a project's log after a cursor. */
export type ReadResult =
  | { kind: "events"; events: LoggedEvent[]; head: Cursor }
  | { kind: "reset"; reason: "retention" | "malformed-cursor" | "unknown-log" | "future-cursor"; head: Cursor };

/**
 * The per-project progress log. In-memory ring by default; Redis Streams with REDIS_URL.
 * Ids are monotonic per project; appending an already-logged key is a no-op (returns null).
 */
export interface EventLog {
  readonly kind: "memory" | "redis";
  append(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null>;
  /** Everything after `cursor` (exclusive). `undefined` cursor means "nothing, just the head". */
  readAfter(projectId: string, cursor: Cursor | undefined): Promise<ReadResult>;
  head(projectId: string): Promise<Cursor>;
  /** Live tail: called once per appended event, in id order, for every append in this process or (Redis) any. */
  subscribe(projectId: string, listener: (event: LoggedEvent) => void): () => void;
  /** Resolves when the log's backing store answers (health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** A log whose publishing runs through a circuit breaker (GuardedEventLog) reports its state. */
  readonly breakerState?: CircuitState;
}

/** Decides whether a request may stream a project. The server wires it to the database. */
export type StreamAuthorizer = (
  projectId: string,
  req: IncomingMessage,
) => Promise<{ ok: true } | { ok: false; code: "NOT_FOUND" | "FORBIDDEN" | "UNAUTHORIZED"; message: string }>;
