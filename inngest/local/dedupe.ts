/**
 * Keys remembered for a window (event ids and idempotency keys: 24 h, as Inngest does), each with
 * the event that claimed it, so reprocessing that same event after a restart is not a duplicate.
 */
export class ExpiringSet {
  private readonly entries = new Map<string, { owner: string; expiry: number }>();

  constructor(private readonly windowMs: number) {}

  /** True if `key` was already seen within the window; records it otherwise. */
  seen(key: string, now: number = Date.now()): boolean {
    return this.claim(key, "", now) === undefined;
  }

  /**
   * Claims `key` for `owner`: the expiry to store when this claims it now, the existing one when
   * `owner` already holds it, undefined when another owner holds it.
   */
  claim(key: string, owner: string, now: number = Date.now()): number | undefined {
    this.prune(now);
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expiry > now) return entry.owner === owner && owner !== "" ? entry.expiry : undefined;
    const expiry = now + this.windowMs;
    this.entries.delete(key);
    this.entries.set(key, { owner, expiry });
    return expiry;
  }

  /** Keys loaded from the store, oldest first (they keep their expiries). */
  restore(keys: { key: string; owner: string; expiresAt: number }[]): void {
    for (const k of [...keys].sort((a, b) => a.expiresAt - b.expiresAt)) this.entries.set(k.key, { owner: k.owner, expiry: k.expiresAt });
  }

  private prune(now: number): void {
    // Insertion order is expiry order (one window for all keys), so stop at the first live key.
    for (const [key, entry] of this.entries) {
      if (entry.expiry > now) return;
      this.entries.delete(key);
    }
  }
}
