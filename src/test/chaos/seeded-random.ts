/**
 * A small seeded PRNG (mulberry32): the chaos schedule is a function of the seed, so a failing run
 * can be replayed with the seed it printed.
 */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An independent stream for one participant, derived from the run's seed. */
export function deriveRandom(seed: number, index: number): Random {
  const mix = seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  mix();
  return mix;
}

/** The seed from CHAOS_SEED, else a fresh one (printed by the suite either way). */
export function chaosSeed(value: string | undefined = process.env.CHAOS_SEED): number {
  if (value !== undefined && value !== "") {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 0xffffffff)
      throw new Error(`CHAOS_SEED must be an integer in [0, 2^32): ${value}`);
    return parsed;
  }
  return Math.floor(Math.random() * 0xffffffff);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
