import type { OpenResult } from "../client/pool";
import type { E2ePhaseResult } from "../phases/e2e";
import type { FanoutResult } from "../phases/fanout";
import type { MemoryResult } from "../phases/memory";
import type { MuxPhaseResult } from "../phases/mux";
import type { CapacityResult } from "../phases/ramp";
import type { SteadyPhaseResult } from "../phases/steady";
import type { TokensPhaseResult } from "../phases/tokens";

/** One line of the printed table (and of the JSON): ratios are always <column> / baseline. */
export interface Row {
  figure: string;
  unit: string;
  baseline: number | null;
  genstream: number | null;
  ratio: number | null;
  /** Genstream with the Redis Streams log (fan-out rows only; null elsewhere or with --no-redis). */
  redis: number | null;
  redisRatio: number | null;
  target: string;
}

/** A line of the token-streaming table: coalesced (what ships) beside every chunk as its own event. */
export interface TokenRow {
  figure: string;
  unit: string;
  uncoalesced: number | null;
  coalesced: number | null;
  /** coalesced / uncoalesced */
  ratio: number | null;
  target: string;
}

export interface TargetVerdict {
  target: string;
  status: "pass" | "FAIL" | "unverified";
  detail: string;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  totalMemoryBytes: number;
  openFilesLimit: number;
  /** 1-minute load average when the run started and ended: other work on the machine skews every figure. */
  loadAverage1m: { before: number; after: number };
}

export interface Measurements {
  capacity: { baseline: CapacityResult; genstream: CapacityResult };
  setup: { baseline: OpenResult; genstream: OpenResult };
  fanout: FanoutResult[];
  steady: SteadyPhaseResult;
  /** The multiplexed stream (GET /api/stream + stream.subscribe), same servers, after the per-project phases. */
  mux: MuxPhaseResult;
  e2e: E2ePhaseResult;
  memory: MemoryResult;
  tokens: TokensPhaseResult;
}

export interface BenchReport {
  startedAt: string;
  mode: "quick" | "full";
  durationMs: number;
  machine: Machine;
  config: { redisUrl: string | null; database: string; fileLimitNote: string | null };
  method: Record<string, string>;
  table: Row[];
  tokenTable: TokenRow[];
  targets: TargetVerdict[];
  correctness: { misses: Record<"baseline" | "genstream" | "redis", number>; problems: string[] };
  measurements: Measurements;
}
