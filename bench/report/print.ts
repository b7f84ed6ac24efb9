import type { BenchReport, Row } from "./types";

function num(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return "—";
  if (unit === "/s") return Math.round(value).toLocaleString("en-US");
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits);
}

function cells(r: Row): string[] {
  return [`${r.figure} (${r.unit})`, num(r.baseline, r.unit), num(r.genstream, r.unit), r.ratio === null ? "—" : `${r.ratio.toFixed(2)}x`, r.target];
}

/** The one table: figure, baseline, Genstream, ratio (Genstream / baseline), target. */
export function formatReport(report: BenchReport): string {
  const header = ["figure", "baseline", "Genstream", "ratio", "target"];
  const body = report.table.map(cells);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join("  ");
  const m = report.machine;
  const out = [
    `Genstream bench (${report.mode}) — ${m.cores} cores (${m.cpuModel}), Node ${m.node}, ${(report.durationMs / 1000).toFixed(0)} s, load average ${m.loadAverage1m.before.toFixed(2)} -> ${m.loadAverage1m.after.toFixed(2)}`,
    "ratio = Genstream / baseline",
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
    "",
    "Targets:",
    ...report.targets.map((t) => `  [${t.status}] ${t.target}: ${t.detail}`),
    "",
    `Correctness: misses baseline ${report.correctness.misses.baseline}, Genstream ${report.correctness.misses.genstream}${report.correctness.problems.length ? "" : " — no problems"}`,
    ...report.correctness.problems.map((p) => `  ! ${p}`),
  ];
  return out.join("\n");
}
