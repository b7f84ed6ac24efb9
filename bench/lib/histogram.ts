/**
 * A fixed-resolution latency histogram (0.05 ms buckets up to 20 s, one overflow bucket), so the
 * steady-state phase can record millions of deliveries without keeping them.
 */
const RESOLUTION_MS = 0.05;
const BUCKETS = 400_000;

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  count = 0;
  max = 0;

  record(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    const bucket = Math.min(BUCKETS, Math.floor(v / RESOLUTION_MS));
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count++;
    if (v > this.max) this.max = v;
  }

  /** Upper edge of the bucket holding the p-th percentile (nearest rank). */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return i === BUCKETS ? this.max : Math.min(this.max, (i + 1) * RESOLUTION_MS);
    }
    return this.max;
  }
}
