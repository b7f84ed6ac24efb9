import { z } from "zod";

/**
 * Every stream limit, declared once. Tests and the benchmark import these rather than repeat them.
 * Retention can be overridden by environment (parsed once, here), e.g. for a test server that must
 * overflow its log quickly: GENSTREAM_RETENTION_EVENTS, GENSTREAM_RETENTION_MS.
 */

const limit = z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional());

const overridesSchema = z.object({
  GENSTREAM_RETENTION_EVENTS: limit,
  GENSTREAM_RETENTION_MS: limit,
});

/** Read once per module instance. In a browser bundle there is no such variable, so the defaults hold. */
function readOverrides(): z.infer<typeof overridesSchema> {
  const source =
    typeof process === "undefined" || process.env === undefined
      ? {}
      : { GENSTREAM_RETENTION_EVENTS: process.env.GENSTREAM_RETENTION_EVENTS, GENSTREAM_RETENTION_MS: process.env.GENSTREAM_RETENTION_MS };
  const parsed = overridesSchema.safeParse(source);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid environment: ${fields}`);
  }
  return parsed.data;
}

const overrides = readOverrides();

export const streamConfig = {
  /** Keep-alive comment interval. The client treats 2.5 intervals of silence as a drop. */
  pingIntervalMs: 15_000,
  /** A connection is closed (client resumes by id) after this long, so no socket lives forever. */
  maxDurationMs: 30 * 60_000,
  /** Bytes queued on one connection before it is closed as a slow consumer. */
  maxBufferedBytes: 1024 * 1024,
  /** Retention per project log: the last N events and no older than T (env: GENSTREAM_RETENTION_EVENTS / _MS). */
  retentionEvents: overrides.GENSTREAM_RETENTION_EVENTS ?? 5_000,
  retentionMs: overrides.GENSTREAM_RETENTION_MS ?? 60 * 60_000,
  /** SSE `retry:` hint for the browser's own reconnect (our hook manages backoff itself). */
  retryHintMs: 1_000,
} as const;

export type StreamConfig = { -readonly [K in keyof typeof streamConfig]: number };

/** Client reconnect backoff: full jitter, capped; reset after a healthy period. */
export const reconnectConfig = {
  baseMs: 250,
  capMs: 10_000,
  healthyAfterMs: 30_000,
  /** Silence (no frame, no ping) after which the client treats the stream as dropped. */
  silenceMs: Math.round(streamConfig.pingIntervalMs * 2.5),
  /** How long a send waits for `ready` before it gives up with a clear error. */
  readyTimeoutMs: 10_000,
} as const;

/**
 * Publishing to the event log (src/streaming/guarded-log.ts): every append is bounded by a timeout
 * and goes through a circuit breaker, so a dead Redis costs a publisher nothing per call and the
 * health endpoint can say `degraded` at once. A job step waits out an outage with backoff for up
 * to `outageBudgetMs` before its attempt fails (and the job engine retries it).
 */
export const publishConfig = {
  /** One append (or health ping) fails after this long. Below Redis' own command timeout (2 s). */
  timeoutMs: 1_500,
  /** Consecutive failures that open the circuit. */
  failureThreshold: 3,
  /** Open for this long, then one trial call is let through (half-open). */
  resetAfterMs: 2_000,
  /** How long a job step keeps retrying one publish through an outage before its attempt fails. */
  outageBudgetMs: 60_000,
  /** Backoff between a step's publish attempts during an outage: full jitter, capped. */
  backoffBaseMs: 100,
  backoffCapMs: 2_000,
} as const;
