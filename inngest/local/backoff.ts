import { backoffDelay, type BackoffShape } from "../../src/lib/backoff";

/** The executor's delays (ms); the formula is the app's one backoff (src/lib/backoff.ts). Tests pass tiny ones. */
export interface BackoffPolicy {
  /** Before retry number `attempt + 1` of a failed step or function call. */
  retry(attempt: number): number;
  /** Before calling an unreachable app again (does not consume attempts). */
  unreachable(consecutiveFailures: number): number;
  /** Before the next startup sync attempt while the app is not up yet. */
  sync(consecutiveFailures: number): number;
}

const jittered =
  (shape: BackoffShape) =>
  (n: number): number =>
    backoffDelay(n, shape);

export const defaultBackoff: BackoffPolicy = {
  retry: jittered({ baseMs: 100, capMs: 10_000 }),
  unreachable: jittered({ baseMs: 100, capMs: 2_000 }),
  sync: jittered({ baseMs: 200, capMs: 5_000 }),
};
