import { reconnectConfig } from "../streaming/config";

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  healthyAfterMs?: number;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
  now?: () => number;
}

/**
 * Reconnect delays: exponential with full jitter (AWS style), capped. Full jitter spreads a crowd of
 * tabs that lost the same server across the whole window instead of having them return together.
 * The first retry waits at most `baseMs`, so a blip heals fast. A connection that stayed up for
 * `healthyAfterMs` earns a fresh start; one that flaps keeps growing its delay.
 */
export class Backoff {
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly healthyAfterMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private attempt = 0;
  private connectedAt: number | null = null;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? reconnectConfig.baseMs;
    this.capMs = options.capMs ?? reconnectConfig.capMs;
    this.healthyAfterMs = options.healthyAfterMs ?? reconnectConfig.healthyAfterMs;
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
    // Exponent clamped so 2 ** attempt never overflows on a tab offline for a week.
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.floor(r * ceiling);
  }

  /** The stream became ready; if it stays up long enough, the next drop starts from scratch. */
  markConnected(): void {
    this.connectedAt = this.now();
  }

  reset(): void {
    this.attempt = 0;
    this.connectedAt = null;
  }
}
