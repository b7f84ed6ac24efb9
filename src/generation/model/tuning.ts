/**
 * Every timing and size knob of the model planner and its text stream, in one place, so the
 * bench and the run panel agree on what "live" means.
 */

/** A run's text is published at most this often… */
export const TEXT_FLUSH_INTERVAL_MS = 50;
/** …or as soon as this many bytes (UTF-8) are waiting, whichever comes first. */
export const TEXT_FLUSH_MAX_BYTES = 1024;

/** LLM_TIMEOUT_MS default: no token for this long fails the attempt (the job engine retries it). */
export const DEFAULT_TOKEN_TIMEOUT_MS = 30_000;

/** Health probe (GET {base}/models) gives up after this long; health itself never fails on it. */
export const PROBE_TIMEOUT_MS = 3_000;

/** A 429 without a usable Retry-After header is retried after this long. */
export const DEFAULT_RETRY_AFTER_MS = 20_000;

/** The model's plan text is capped; a runaway answer is not a plan (roughly 50 resources × 100 fields). */
export const MAX_PLAN_TEXT_CHARS = 400_000;

/** /api/health reuses a model probe this young as it is (at most one GET /models per this long)… */
export const MODEL_HEALTH_FRESH_MS = 10_000;
/** …answers at once with an older one up to this age while a new probe runs, and past it waits for the new probe. */
export const MODEL_HEALTH_MAX_STALE_MS = 60_000;
