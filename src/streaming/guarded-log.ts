import { setTimeout as sleepFor } from "node:timers/promises";
import type { Logger } from "pino";
import { backoffDelay, type RandomSource } from "../lib/backoff";
import { CircuitBreaker, type CircuitState } from "../lib/circuit-breaker";
import { silentLogger as defaultLogger } from "../lib/logger";
import { publishConfig } from "./config";
import type { Cursor, LoggedEvent, ProgressEvent } from "./protocol";
import type { EventLog, ReadResult } from "./types";
import { errorMessage } from "../lib/errors";

export interface GuardedEventLogOptions {
  logger?: Logger;
  /** Overrides of publishConfig's timeout and breaker limits (tests). */
  limits?: Partial<Record<"timeoutMs" | "failureThreshold" | "resetAfterMs", number>>;
  /** Clock of the breaker; injectable so tests need no waiting. */
  now?: () => number;
}

/**
 * The event log with publishing guarded: every append (and the health ping) is bounded by a
 * timeout and runs through a circuit breaker. While the backing store is down, appends fail at once
 * with CircuitOpenError instead of each waiting out a timeout; after `resetAfterMs` one trial call
 * is let through and its success closes the circuit again, so recovery needs no restart. Reads and
 * the live tail pass through unchanged: they have their own timeouts and reconnect with backoff.
 */
export class GuardedEventLog implements EventLog {
  readonly kind: EventLog["kind"];
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly inner: EventLog,
    options: GuardedEventLogOptions = {},
  ) {
    this.kind = inner.kind;
    const logger = options.logger ?? defaultLogger;
    const limits = {
      timeoutMs: options.limits?.timeoutMs ?? publishConfig.timeoutMs,
      failureThreshold: options.limits?.failureThreshold ?? publishConfig.failureThreshold,
      resetAfterMs: options.limits?.resetAfterMs ?? publishConfig.resetAfterMs,
    };
    this.breaker = new CircuitBreaker({
      dependency: "event log",
      timeoutMs: limits.timeoutMs,
      failureThreshold: limits.failureThreshold,
      resetAfterMs: limits.resetAfterMs,
      ...(options.now ? { now: options.now } : {}),
      onStateChange: (state, error) => {
        if (state === "open")
          logger.warn(
            { backend: inner.kind, err: error === undefined ? undefined : errorMessage(error), retryAfterMs: limits.resetAfterMs },
            "event log circuit opened",
          );
        else logger.info({ backend: inner.kind, state }, "event log circuit closed");
      },
    });
  }

  /** closed: publishing works; open: failing fast; half-open: the next call is a trial. */
  get breakerState(): CircuitState {
    return this.breaker.state;
  }

  append(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    return this.breaker.run(() => this.inner.append(projectId, key, event));
  }

  readAfter(projectId: string, cursor: Cursor | undefined): Promise<ReadResult> {
    return this.inner.readAfter(projectId, cursor);
  }

  head(projectId: string): Promise<Cursor> {
    return this.inner.head(projectId);
  }

  subscribe(projectId: string, listener: (event: LoggedEvent) => void): () => void {
    return this.inner.subscribe(projectId, listener);
  }

  /** Through the breaker: an open circuit answers "down" at once, and a good ping closes a half-open one. */
  ping(): Promise<void> {
    return this.breaker.run(() => this.inner.ping());
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The errors' `name` fields (string literals: a minified bundle renames the classes themselves). */
const OUTAGE_ERRORS = new Set<string>(["CircuitOpenError", "CallTimeoutError", "EventLogUnavailableError"]);

/**
 * The failure is the log being unreachable (not a bad event): waiting and trying again can succeed.
 * Matched by name, not instanceof, even with one services object: server.ts builds the streaming
 * service from its own module graph, while the callers that catch (job steps behind /api/inngest, tRPC
 * routers) run in Next's bundle, which has its own copies of these classes, so instanceof is false there.
 */
export function isEventLogOutage(error: unknown): boolean {
  return error instanceof Error && OUTAGE_ERRORS.has(error.name);
}

export interface OutageWaitOptions {
  logger: Logger;
  /** Fields for the log lines (projectId, key, ...). */
  context: Record<string, unknown>;
  budgetMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  now?: () => number;
  /** The backoff's jitter source; injectable so tests are deterministic. */
  random?: RandomSource;
  /** Backoff between attempts; injectable so tests need no waiting. */
  backoffSleep?: (ms: number) => Promise<void>;
}

/**
 * For background publishers (job steps): retries a publish through an event log outage with capped
 * backoff, for up to `budgetMs`, then rethrows so the job engine's own retry takes over. Safe
 * because appends are idempotent by key. Any other error is rethrown at once.
 */
export async function publishThroughOutage<T>(publish: () => Promise<T>, options: OutageWaitOptions): Promise<T> {
  const budgetMs = options.budgetMs ?? publishConfig.outageBudgetMs;
  const baseMs = options.backoffBaseMs ?? publishConfig.backoffBaseMs;
  const capMs = options.backoffCapMs ?? publishConfig.backoffCapMs;
  const now = options.now ?? Date.now;
  const backoffSleep = options.backoffSleep ?? ((ms: number) => sleepFor(ms).then(() => undefined));
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await publish();
      if (attempt > 1)
        options.logger.info(
          { ...options.context, attempts: attempt, waitedMs: now() - started },
          "publish succeeded after event log outage",
        );
      return result;
    } catch (error) {
      if (!isEventLogOutage(error)) throw error;
      const retryAfter = retryAfterOf(error);
      const delay = Math.min(capMs, Math.max(backoffDelay(attempt - 1, { baseMs, capMs }, options.random), retryAfter));
      if (now() - started + delay > budgetMs) {
        options.logger.error(
          { ...options.context, attempts: attempt, err: errorMessage(error) },
          "event log still unavailable; publish gives up",
        );
        throw error;
      }
      if (attempt === 1)
        options.logger.warn({ ...options.context, err: errorMessage(error) }, "event log unavailable; publish retrying with backoff");
      await backoffSleep(delay);
    }
  }
}

function retryAfterOf(error: unknown): number {
  if (typeof error !== "object" || error === null || !("retryAfterMs" in error)) return 0;
  return typeof error.retryAfterMs === "number" ? error.retryAfterMs : 0;
}
