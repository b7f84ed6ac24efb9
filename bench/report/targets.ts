import { MEMORY_TARGETS, type MemoryResult } from "../phases/memory";
import { TOKEN_TARGETS, type TokensPhaseResult } from "../phases/tokens";
import type { OpenResult } from "../client/pool";
import type { Measurements, TargetVerdict } from "./types";

const TARGET_CONNECTIONS = 20_000;

/**
 * Issue 12: the handshake of both streams (connect -> ready p50, new connections/s, each against the
 * baseline's same stream) and the multiplexed stream's fan-out p99 and CPU per delivery.
 */
export const SETUP_TARGETS = { readyP50: 1.3, perSecond: 0.8, muxFanoutP99: 1.2, muxDeliveriesPerCpu: 0.9 } as const;

function verdict(target: string, ok: boolean | null, detail: string): TargetVerdict {
  return { target, status: ok === null ? "unverified" : ok ? "pass" : "FAIL", detail };
}

/** The targets, judged on this run's figures (reported, never asserted by the harness). */
export function judgeTargets(m: Measurements): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  for (const f of m.fanout) {
    const ratio = f.genstream.p99 / f.baseline.p99;
    out.push(
      verdict(
        `fan-out p99 <= 1.5x baseline @${f.connections}`,
        ratio <= 1.5,
        `${f.genstream.p99.toFixed(2)} vs ${f.baseline.p99.toFixed(2)} ms = ${ratio.toFixed(2)}x`,
      ),
    );
  }
  for (const f of m.fanout) {
    if (!f.redis) continue;
    const ratio = f.redis.p99 / f.baseline.p99;
    out.push(
      verdict(
        `fan-out p99 <= 1.5x baseline @${f.connections}, Redis backend`,
        ratio <= 1.5,
        `${f.redis.p99.toFixed(2)} vs ${f.baseline.p99.toFixed(2)} ms = ${ratio.toFixed(2)}x`,
      ),
    );
  }
  const at = m.steady.comparedAtEventsPerSec;
  const b = m.steady.baseline.steps.find((s) => s.offeredEventsPerSec === at);
  const g = m.steady.genstream.steps.find((s) => s.offeredEventsPerSec === at);
  out.push(
    b && g && Number.isFinite(b.deliveriesPerCpuSecond) && Number.isFinite(g.deliveriesPerCpuSecond)
      ? verdict(
          "deliveries per CPU-second >= 0.6x baseline",
          g.deliveriesPerCpuSecond / b.deliveriesPerCpuSecond >= 0.6,
          `${g.deliveriesPerCpuSecond.toFixed(0)} vs ${b.deliveriesPerCpuSecond.toFixed(0)} /s = ${(g.deliveriesPerCpuSecond / b.deliveriesPerCpuSecond).toFixed(2)}x at ${at} events/s${m.steady.comparedAtSustained ? "" : " (a rate not sustained by both)"}`,
        )
      : verdict("deliveries per CPU-second >= 0.6x baseline", null, "no event rate measured on both servers with measurable server CPU"),
  );
  const tb = m.capacity.baseline.steps.at(-1);
  const tg = m.capacity.genstream.steps.at(-1);
  if (tb && tg) {
    const ratio = tg.perConnectionBytes / tb.perConnectionBytes;
    const detail = `${(tg.perConnectionBytes / 1024).toFixed(1)} vs ${(tb.perConnectionBytes / 1024).toFixed(1)} KB = ${ratio.toFixed(2)}x with ${tg.connections} held`;
    const enough = tg.connections >= TARGET_CONNECTIONS;
    out.push(
      verdict(
        "RSS per held connection <= 1.5x baseline, >= 20k held",
        ratio > 1.5 ? false : enough ? true : null,
        enough ? detail : `${detail}; ${m.capacity.genstream.cappedBy ?? "fewer than 20k requested"}`,
      ),
    );
  }
  out.push(...judgeSetup("per-project stream", m.setup.baseline, m.setup.genstream));
  out.push(...judgeMux(m));
  const e = m.e2e;
  out.push(
    e.ran
      ? verdict(
          "send -> run.started p50 <= 100 ms",
          e.runStartedMs.p50 <= 100,
          `p50 ${e.runStartedMs.p50.toFixed(1)} ms, p95 ${e.runStartedMs.p95.toFixed(1)} ms over ${e.runStartedMs.n} sends`,
        )
      : verdict("send -> run.started p50 <= 100 ms", null, e.reason),
  );
  out.push(...judgeMemory(m.memory));
  out.push(...judgeTokens(m.tokens));
  return out;
}

function judgeSetup(label: string, b: OpenResult, g: OpenResult): TargetVerdict[] {
  const t = SETUP_TARGETS;
  const p50 = g.readyMs.p50 / b.readyMs.p50;
  const rate = g.perSecond / b.perSecond;
  const known = (x: number): boolean | null => (Number.isFinite(x) ? true : null);
  return [
    verdict(
      `${label}: connect -> ready p50 <= ${t.readyP50}x baseline`,
      known(p50) && p50 <= t.readyP50,
      `${g.readyMs.p50.toFixed(1)} vs ${b.readyMs.p50.toFixed(1)} ms = ${p50.toFixed(2)}x over ${g.opened} / ${b.opened} connections`,
    ),
    verdict(
      `${label}: new connections/s >= ${t.perSecond}x baseline`,
      known(rate) && rate >= t.perSecond,
      `${g.perSecond.toFixed(0)} vs ${b.perSecond.toFixed(0)} /s = ${rate.toFixed(2)}x`,
    ),
  ];
}

/** The multiplexed stream against the baseline's: handshake, fan-out p99, deliveries per CPU-second. */
function judgeMux(m: Measurements): TargetVerdict[] {
  const t = SETUP_TARGETS;
  const out = judgeSetup("multiplexed stream", m.mux.baseline.setup, m.mux.genstream.setup);
  for (const f of m.mux.fanout) {
    const ratio = f.genstream.p99 / f.baseline.p99;
    out.push(
      verdict(
        `multiplexed stream: fan-out p99 <= ${t.muxFanoutP99}x baseline @${f.connections}`,
        ratio <= t.muxFanoutP99,
        `${f.genstream.p99.toFixed(2)} vs ${f.baseline.p99.toFixed(2)} ms = ${ratio.toFixed(2)}x`,
      ),
    );
  }
  const b = m.mux.baseline.steady;
  const g = m.mux.genstream.steady;
  const name = `multiplexed stream: deliveries per CPU-second >= ${t.muxDeliveriesPerCpu}x baseline`;
  if (!b || !g || !Number.isFinite(b.deliveriesPerCpuSecond) || !Number.isFinite(g.deliveriesPerCpuSecond)) {
    out.push(verdict(name, null, "no steady step with measurable server CPU on both servers"));
  } else {
    const ratio = g.deliveriesPerCpuSecond / b.deliveriesPerCpuSecond;
    out.push(
      verdict(
        name,
        ratio >= t.muxDeliveriesPerCpu,
        `${g.deliveriesPerCpuSecond.toFixed(0)} vs ${b.deliveriesPerCpuSecond.toFixed(0)} /s = ${ratio.toFixed(2)}x at ${m.mux.steadyEventsPerSec} events/s${b.sustained && g.sustained ? "" : " (not sustained by both)"}`,
      ),
    );
  }
  return out;
}

/** Token streaming (issue 11): p99 chunk -> every connection, and CPU per delivered token against uncoalesced publishing. */
export function judgeTokens(t: TokensPhaseResult): TargetVerdict[] {
  const { coalesced: c, uncoalesced: u } = t;
  const shape = `${c.generations} generations x ${c.connectionsPerGeneration} connections, ${c.modelTokensPerSecond.toFixed(0)} tokens/s`;
  const p99 = c.latencyMs.p99;
  const latency = verdict(
    `token latency p99 (model chunk written -> every connection) <= ${TOKEN_TARGETS.p99LatencyMs} ms, coalesced`,
    Number.isFinite(p99) ? p99 <= TOKEN_TARGETS.p99LatencyMs : null,
    Number.isFinite(p99)
      ? `${p99.toFixed(1)} ms over ${c.latencyMs.n} chunks (uncoalesced ${u.latencyMs.p99.toFixed(1)} ms), ${shape}`
      : "no chunk reached every connection",
  );
  const cu = c.streaming.cpuUsPerToken;
  const uu = u.streaming.cpuUsPerToken;
  const cpu =
    cu !== null && uu !== null
      ? verdict(
          `server CPU per delivered token, coalesced <= ${TOKEN_TARGETS.cpuRatio}x uncoalesced`,
          cu / uu <= TOKEN_TARGETS.cpuRatio,
          `${cu.toFixed(1)} vs ${uu.toFixed(1)} µs = ${(cu / uu).toFixed(2)}x from the first chunk to the whole text on every connection (${(c.streaming.ms / 1000).toFixed(1)} s / ${(u.streaming.ms / 1000).toFixed(1)} s), ${shape}`,
        )
      : verdict(
          `server CPU per delivered token, coalesced <= ${TOKEN_TARGETS.cpuRatio}x uncoalesced`,
          null,
          `no streaming window of >= 0.5 s with deliveries (${(c.streaming.ms / 1000).toFixed(2)} s / ${(u.streaming.ms / 1000).toFixed(2)} s)`,
        );
  return [latency, cpu];
}

/** The 512 MB container's targets: idle and peak RSS with PostgreSQL, idle with PGlite. */
export function judgeMemory(m: MemoryResult): TargetVerdict[] {
  const MB = 2 ** 20;
  const t = MEMORY_TARGETS;
  const check = (
    target: string,
    column: MemoryResult["postgres"],
    pick: "idleRssBytes" | "peakRssBytes",
    limitMb: number,
  ): TargetVerdict =>
    column.ran
      ? verdict(target, column[pick] / MB <= limitMb, `${(column[pick] / MB).toFixed(0)} MB`)
      : verdict(target, null, column.reason);
  return [
    check(`PostgreSQL: idle RSS <= ${t.postgresIdleMb} MB`, m.postgres, "idleRssBytes", t.postgresIdleMb),
    check(`PostgreSQL: peak RSS during a generation <= ${t.postgresPeakMb} MB`, m.postgres, "peakRssBytes", t.postgresPeakMb),
    check(`PGlite: idle RSS <= ${t.pgliteIdleMb} MB`, m.pglite, "idleRssBytes", t.pgliteIdleMb),
  ];
}
