/** Command line and the sizes of each phase: `npm run bench [-- --quick] [--profile] [--build] [--no-redis] [--memory] [--tokens]`. */
export interface BenchSizes {
  mode: "quick" | "full";
  /** Projects the steady-state connections (and the capacity ramp's extra ones) are spread over. */
  projects: number;
  /** Size of the `partial` field of every benchmark event (a realistic progress event). */
  payloadBytes: number;
  /** Stream handshakes in flight at once when the client opens many connections. */
  openConcurrency: number;
  fanout: { sizes: number[]; broadcasts: number; warmup: number; deadlineMs: number };
  steady: { perProject: number; rates: number[]; stepMs: number };
  /** Held connections at which RSS is read; the last one is capped by the open-files limit. */
  capacity: { steps: number[] };
  e2e: { sends: number; deadlineMs: number };
  /**
   * The multiplexed stream's subscription memory: `connections` mux connections (one subscription
   * each), then `perConnection` more on each, `concurrency` stream.subscribe calls in flight.
   */
  mux: { subscriptions: { connections: number; perConnection: number; concurrency: number } };
  /** Generations run while the app's RSS is sampled for its peak. */
  memory: { runs: number };
  /**
   * Token streaming over a model (the local fake model server): `generations` at once, each watched by
   * `connectionsPerGeneration` streams, the model writing `tokenRate` chunks/s of `tokenSize` characters;
   * `warmup`: one generation first in each fresh app process, not measured.
   */
  tokens: {
    generations: number;
    connectionsPerGeneration: number;
    tokenRate: number;
    tokenSize: number;
    warmup: boolean;
    deadlineMs: number;
  };
}

export interface BenchOptions {
  sizes: BenchSizes;
  /** Run both servers under `node --cpu-prof` (profiles in bench/results/profiles/<run>/). */
  profile: boolean;
  /** Run `next build` even if `.next/` exists. */
  build: boolean;
  /** Redis for the third column (Genstream with REDIS_URL, fan-out phase); null with --no-redis. */
  redisUrl: string | null;
  /** Only the memory phase (idle and peak RSS with PostgreSQL and PGlite), for a quick look. */
  memoryOnly: boolean;
  /** Only the token-streaming phase (coalesced and uncoalesced), for a quick look. */
  tokensOnly: boolean;
}

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

const FULL: BenchSizes = {
  mode: "full",
  projects: 100,
  payloadBytes: 256,
  openConcurrency: 128,
  fanout: { sizes: [1_000, 5_000], broadcasts: 25, warmup: 2, deadlineMs: 30_000 },
  steady: { perProject: 50, rates: [250, 500, 750, 1_000, 1_250, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000], stepMs: 3_000 },
  capacity: { steps: [1_000, 5_000, 10_000, 20_000] },
  e2e: { sends: 30, deadlineMs: 60_000 },
  mux: { subscriptions: { connections: 1_000, perConnection: 5, concurrency: 16 } },
  memory: { runs: 3 },
  tokens: { generations: 50, connectionsPerGeneration: 20, tokenRate: 100, tokenSize: 4, warmup: true, deadlineMs: 120_000 },
};

const QUICK: BenchSizes = {
  mode: "quick",
  projects: 4,
  payloadBytes: 256,
  openConcurrency: 32,
  fanout: { sizes: [50, 100], broadcasts: 3, warmup: 1, deadlineMs: 10_000 },
  steady: { perProject: 5, rates: [40, 80], stepMs: 500 },
  capacity: { steps: [200] },
  e2e: { sends: 3, deadlineMs: 30_000 },
  mux: { subscriptions: { connections: 20, perConnection: 2, concurrency: 8 } },
  memory: { runs: 1 },
  tokens: { generations: 3, connectionsPerGeneration: 3, tokenRate: 100, tokenSize: 16, warmup: false, deadlineMs: 60_000 },
};

export function parseOptions(argv: string[]): BenchOptions {
  const known = new Set(["--quick", "--profile", "--build", "--no-redis", "--memory", "--tokens"]);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0) throw new Error(`unknown option(s): ${unknown.join(" ")} (known: ${[...known].join(" ")})`);
  return {
    sizes: argv.includes("--quick") ? QUICK : FULL,
    profile: argv.includes("--profile"),
    build: argv.includes("--build"),
    redisUrl: argv.includes("--no-redis") ? null : process.env.REDIS_URL || DEFAULT_REDIS_URL,
    memoryOnly: argv.includes("--memory"),
    tokensOnly: argv.includes("--tokens"),
  };
}
