/**
 * A small circuit breaker for calls to a dependency that can go away (the Redis event log).
 * Closed: calls go through; after `failureThreshold` consecutive failures it opens. Open: calls
 * fail at once with CircuitOpenError, so a dead dependency costs nothing per call. After
 * `resetAfterMs` one trial call is let through (half-open): success closes, failure re-opens.
 * Each call is bounded by `timeoutMs`.
 */
export type CircuitState = "closed" | "open" | "half-open";

export class CircuitOpenError extends Error {
  override readonly name = "CircuitOpenError";
  constructor(
    readonly dependency: string,
    readonly retryAfterMs: number,
  ) {
    super(`${dependency} is unavailable (circuit open); retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

export class CallTimeoutError extends Error {
  override readonly name = "CallTimeoutError";
  constructor(dependency: string, ms: number) {
    super(`${dependency} did not answer within ${ms} ms`);
  }
}

export interface CircuitBreakerOptions {
  dependency: string;
  failureThreshold: number;
  resetAfterMs: number;
  timeoutMs: number;
  now?: () => number;
  onStateChange?: (state: CircuitState, error?: unknown) => void;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trial = false;
  private current: CircuitState = "closed";
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.current === "open" && this.now() - this.openedAt >= this.options.resetAfterMs) return "half-open";
    return this.current;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === "open" || (state === "half-open" && this.trial)) {
      throw new CircuitOpenError(this.options.dependency, Math.max(0, this.options.resetAfterMs - (this.now() - this.openedAt)));
    }
    if (state === "half-open") this.trial = true;
    try {
      const result = await this.withTimeout(call);
      this.succeeded();
      return result;
    } catch (error) {
      this.failed(error);
      throw error;
    } finally {
      if (state === "half-open") this.trial = false;
    }
  }

  private withTimeout<T>(call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CallTimeoutError(this.options.dependency, this.options.timeoutMs)), this.options.timeoutMs);
      call().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          // The call's own rejection, passed through unchanged.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        },
      );
    });
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.current !== "closed") {
      this.current = "closed";
      this.options.onStateChange?.("closed");
    }
  }

  private failed(error: unknown): void {
    this.failures += 1;
    const reopen = this.current === "open"; // a failed half-open trial
    if (reopen || this.failures >= this.options.failureThreshold) {
      this.openedAt = this.now();
      if (this.current !== "open") {
        this.current = "open";
        this.options.onStateChange?.("open", error);
      }
    }
  }
}
