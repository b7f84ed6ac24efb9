/**
 * The one retry delay of the codebase: exponential with full jitter (AWS style), capped. Full jitter
 * spreads a crowd that failed together (tabs that lost the same server, instances that lost the same
 * Redis) across the whole window instead of having them return together, and the first retry waits
 * at most `baseMs`, so a blip heals fast. Callers keep their own base and cap.
 */
export interface BackoffShape {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Uniform in [0, 1); injectable so tests are deterministic. */
export type RandomSource = () => number;

/** Delay before retry number `retry` (0 = the first retry): uniform below min(capMs, baseMs * 2^retry). */
export function backoffDelay(retry: number, shape: BackoffShape, random: RandomSource = Math.random): number {
  // Exponent clamped so 2 ** retry never overflows (a tab offline for a week, a Redis down for a day).
  const ceiling = Math.min(shape.capMs, shape.baseMs * 2 ** Math.min(Math.max(retry, 0), 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

export interface BackoffOptions extends BackoffShape {
  /** A connection that stayed up this long earns a fresh start on its next drop. */
  readonly healthyAfterMs: number;
  readonly random?: RandomSource;
  readonly now?: () => number;
}

/**
 * `backoffDelay` with its attempt count kept, for a connection that reconnects (the browser's
 * stream). One that stayed up for `healthyAfterMs` starts over; one that flaps keeps growing its delay.
 */
export class Backoff {
  private readonly shape: BackoffShape;
  private readonly healthyAfterMs: number;
  private readonly random: RandomSource;
  private readonly now: () => number;
  private attempt = 0;
  private connectedAt: number | null = null;

  constructor(options: BackoffOptions) {
    this.shape = { baseMs: options.baseMs, capMs: options.capMs };
    this.healthyAfterMs = options.healthyAfterMs;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Attempts counted since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next reconnect; each call counts as one attempt. */
  nextDelay(): number {
    if (this.connectedAt !== null && this.now() - this.connectedAt >= this.healthyAfterMs) this.attempt = 0;
    this.connectedAt = null;
    return backoffDelay(this.attempt++, this.shape, this.random);
  }

  /** The connection became ready; if it stays up long enough, the next drop starts from scratch. */
  markConnected(): void {
    this.connectedAt = this.now();
  }

  reset(): void {
    this.attempt = 0;
    this.connectedAt = null;
  }
}
