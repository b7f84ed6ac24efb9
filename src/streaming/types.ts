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

/** Who opens a multiplexed stream, and how many subscriptions they may hold. The server wires it to sessions and StreamSlots. */
export interface MultiplexAccess {
  /** The signed-in user of the request, within their stream budget; the response holds that slot until it closes. */
  authenticate(
    req: IncomingMessage,
  ): Promise<{ ok: true; userId: string } | { ok: false; code: "UNAUTHORIZED" | "FORBIDDEN"; message: string }>;
  /** One more subscription for the user on this instance (`release` gives it back), or the refusal's message over budget. */
  takeSubscriptionSlot(userId: string): { ok: true; release: () => void } | { ok: false; message: string };
}

/** A subscription change for a multiplexed connection; the caller has checked that `userId` may watch `projectId`. */
export interface SubscriptionRequest {
  op: "subscribe" | "unsubscribe";
  connectionId: string;
  userId: string;
  projectId: string;
  /** subscribe: replay after this cursor; undefined: from the head on. */
  cursor?: Cursor;
  /** subscribe: the client's id for it, echoed in its `ready` or `reset`. */
  subscriptionId?: string;
}

/**
 * Why a subscription call failed. PRECONDITION_FAILED is about the connection (not open here or
 * anywhere, or another user's): open a new one. The project's own refusals (NOT_FOUND, FORBIDDEN)
 * come from the router before the service is asked.
 */
export type SubscriptionFailureCode = "PRECONDITION_FAILED" | "TOO_MANY_REQUESTS" | "CONFLICT" | "SERVICE_UNAVAILABLE";

/** subscribe: `cursor` is what `ready` reported; unsubscribe: `subscribed` says whether there was a subscription. */
export type SubscriptionOutcome =
  | { ok: true; op: "subscribe"; cursor: Cursor; reset: boolean; replayed: number }
  | { ok: true; op: "unsubscribe"; subscribed: boolean }
  | { ok: false; code: SubscriptionFailureCode; message: string };

/**
 * Cross-instance requests to the instance holding a multiplexed connection (Redis pub/sub): a
 * subscribe handled by one instance reaches the connection another one holds.
 */
export interface StreamControl {
  /** Receives the requests for a connection held here until the returned function is called. Resolves once requests can arrive. */
  hold(connectionId: string, handler: (request: SubscriptionRequest) => Promise<SubscriptionOutcome>): Promise<() => void>;
  /** The holding instance's outcome, or null when no instance holds the connection. */
  send(request: SubscriptionRequest): Promise<SubscriptionOutcome | null>;
  close(): Promise<void>;
}
