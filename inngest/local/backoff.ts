/** Backoff delays (ms). Tests pass tiny ones; local dev defaults start around 100 ms. */
export interface BackoffPolicy {
  /** Before retry number `attempt + 1` of a failed step or function call. */
  retry(attempt: number): number;
  /** Before calling an unreachable app again (does not consume attempts). */
  unreachable(consecutiveFailures: number): number;
  /** Before the next startup sync attempt while the app is not up yet. */
  sync(consecutiveFailures: number): number;
}

function exponential(baseMs: number, capMs: number): (n: number) => number {
  return (n) => Math.min(capMs, baseMs * 2 ** Math.min(n, 20));
}

export const defaultBackoff: BackoffPolicy = {
  retry: exponential(100, 10_000),
  unreachable: exponential(100, 2_000),
  sync: exponential(200, 5_000),
};
