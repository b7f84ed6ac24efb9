/** Keys remembered for a window (event ids and idempotency keys: 24 h, as Inngest does). */
export class ExpiringSet {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** True if `key` was already seen within the window; records it otherwise. */
  seen(key: string, now: number = Date.now()): boolean {
    this.prune(now);
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > now) return true;
    this.expiries.set(key, now + this.windowMs);
    return false;
  }

  private prune(now: number): void {
    // Insertion order is expiry order (one window for all keys), so stop at the first live key.
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) return;
      this.expiries.delete(key);
    }
  }
}
