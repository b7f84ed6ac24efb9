import { formatMemory } from "../phases/memory";
import type { BenchReport, Row, TokenRow } from "./types";
import type { TokensPhaseResult } from "../phases/tokens";

export function num(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return "—";
  if (unit === "/s") return Math.round(value).toLocaleString("en-US");
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits);
}

const times = (ratio: number | null): string => (ratio === null ? "—" : `${ratio.toFixed(2)}x`);

function cells(r: Row, withRedis: boolean): string[] {
  const redis = withRedis ? [num(r.redis, r.unit), times(r.redisRatio)] : [];
  return [`${r.figure} (${r.unit})`, num(r.baseline, r.unit), num(r.genstream, r.unit), times(r.ratio), ...redis, r.target];
}

/** Header, a rule, the body: first column left-aligned, the others right-aligned. */
function aligned(header: string[], body: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)];
}

/** The token-streaming table: uncoalesced, coalesced, ratio (coalesced / uncoalesced), target. */
export function formatTokens(rows: TokenRow[], t: TokensPhaseResult): string {
  const c = t.coalesced;
  const header = ["figure", "uncoalesced", "coalesced", "ratio", "target"];
  const body = rows.map((r) => [
    `${r.figure}${r.unit ? ` (${r.unit})` : ""}`,
    num(r.uncoalesced, r.unit),
    num(r.coalesced, r.unit),
    times(r.ratio),
    r.target,
  ]);
  return [
    `Token streaming: ${c.generations} generations at once x ${c.connectionsPerGeneration} connections each, fake model ${c.chunksPerGeneration} chunks per generation at ${c.modelTokensPerSecond.toFixed(0)}/s; coalesced = ${c.flushSetting}, uncoalesced = ${t.uncoalesced.flushSetting}; ratio = coalesced / uncoalesced`,
    ...aligned(header, body),
  ].join("\n");
}

/**
 * The one table: figure, baseline, Genstream, ratio (Genstream / baseline), and when the Redis
 * variant ran, its figure and ratio (fan-out rows), then the target (judged on the in-memory column).
 */
export function formatReport(report: BenchReport): string {
  const withRedis = report.config.redisUrl !== null;
  const header = ["figure", "baseline", "Genstream", "ratio", ...(withRedis ? ["Gs+Redis", "ratio"] : []), "target"];
  const body = report.table.map((r) => cells(r, withRedis));
  const m = report.machine;
  const out = [
    `Genstream bench (${report.mode}) — ${m.cores} cores (${m.cpuModel}), Node ${m.node}, ${(report.durationMs / 1000).toFixed(0)} s, load average ${m.loadAverage1m.before.toFixed(2)} -> ${m.loadAverage1m.after.toFixed(2)}`,
    `ratio = Genstream / baseline${withRedis ? "; Gs+Redis = Genstream with REDIS_URL (Redis Streams log), fan-out and steady state, ratio = Gs+Redis / baseline" : ""}; database ${report.config.database}`,
    ...(report.config.fileLimitNote ? [`note: ${report.config.fileLimitNote}`] : []),
    "",
    ...aligned(header, body),
    "",
    formatMemory(report.measurements.memory),
    "",
    formatTokens(report.tokenTable, report.measurements.tokens),
    "",
    "Targets:",
    ...report.targets.map((t) => `  [${t.status}] ${t.target}: ${t.detail}`),
    "",
    `Correctness: misses baseline ${report.correctness.misses.baseline}, Genstream ${report.correctness.misses.genstream}${withRedis ? `, Genstream+Redis ${report.correctness.misses.redis}` : ""}${report.correctness.problems.length ? "" : " — no problems"}`,
    ...report.correctness.problems.map((p) => `  ! ${p}`),
  ];
  return out.join("\n");
}
