/**
 * A small bounded cache of positive answers with a per-entry expiry, and single flight: concurrent
 * misses of one key share one load. `null` answers are never cached (a refusal is always re-checked).
 * Oldest entries are evicted first once `maxEntries` is reached (Map insertion order).
 */
export interface TtlCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<V | null>>();
  private readonly now: () => number;
  /** Bumped by clear(): a load that started before it must not repopulate the cache. */
  private generation = 0;

  constructor(private readonly options: TtlCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value, else `load()`'s. `expiresAt(value)` may shorten the entry's life below the TTL
   * (e.g. a session that ends sooner); an entry is never kept past it.
   */
  async getOrLoad(key: string, load: () => Promise<V | null>, expiresAt?: (value: V) => number): Promise<V | null> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    if (hit) this.entries.delete(key);
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const generation = this.generation;
    const loaded = load().then(
      (value) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        if (value !== null && generation === this.generation)
          this.set(key, value, Math.min(this.now() + this.options.ttlMs, expiresAt?.(value) ?? Number.POSITIVE_INFINITY));
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every entry, and every answer still loading (its callers get it, the cache does not). */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }

  private set(key: string, value: V, expiresAt: number): void {
    if (expiresAt <= this.now()) return;
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt });
  }
}
