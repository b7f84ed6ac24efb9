import type { SteadyResult } from "../client/steady";
import type { StreamKind } from "../client/sse-connection";
import { sampleProcess } from "../lib/proc";
import { closeGroup, groups, inTurn, type BenchServer, type PhaseContext, type ServerName } from "./context";

export interface SteadyStep extends SteadyResult {
  serverCpuMs: number;
  /** Of which kernel time (on loopback the sender's write also pays for TCP delivery). */
  serverSystemMs: number;
  cpuMsPer1kDeliveries: number;
  deliveriesPerCpuSecond: number;
  /** CPU use over the step's wall time (100 = one core): near 100 the process is the bottleneck. */
  serverCpuPercent: number;
  clientCpuPercent: number;
  /** No miss, and the last quarter's median latency within max(3x, +50 ms) of the first quarter's. */
  sustained: boolean;
}

export interface SteadyServerResult {
  steps: SteadyStep[];
  /** Offered deliveries/s of the highest step sustained (0: none). */
  maxSustainedDeliveriesPerSec: number;
}

export interface SteadyPhaseResult {
  projects: number;
  perProject: number;
  stepMs: number;
  baseline: SteadyServerResult;
  genstream: SteadyServerResult;
  /** Genstream with the Redis Streams log, same ladder (null with --no-redis); not part of the comparison rate. */
  redis: SteadyServerResult | null;
  /** The CPU comparison is made at equal load: the highest event rate both sustained, else the lowest both ran. */
  comparedAtEventsPerSec: number | null;
  comparedAtSustained: boolean;
}

/**
 * Lag growth is judged on medians: a server that cannot keep up queues, so the median of the events
 * due last is far above that of the events due first (by ~ step length x overload: 3 s x 10% = 300 ms);
 * a single stall (GC) only moves the p99, and jitter of a few ms is not growth.
 */
function sustained(r: SteadyResult): boolean {
  const first = r.windowP50Ms[0] ?? Number.NaN;
  const last = r.windowP50Ms[r.windowP50Ms.length - 1] ?? Number.NaN;
  return r.misses === 0 && r.orderErrors === 0 && last <= Math.max(3 * first, first + 50);
}

/**
 * Steady state: the ramp left projects x perProject connections on each server; rate steps go up and
 * each server stops climbing after its first step that is not sustained. Server CPU is read from /proc
 * around each step. The group is closed after.
 */
export async function measureSteady(ctx: PhaseContext): Promise<SteadyPhaseResult> {
  const { steady, payloadBytes } = ctx.sizes;
  // The baseline accepts any id and streams Genstream's projects; the Redis variant has its own.
  const projects = ctx.servers[1].projects.spread;
  const servers = ctx.redis ? [...ctx.servers, ctx.redis] : [...ctx.servers];
  const group = groups.steady();
  // One short step at the lowest rate per server, not recorded: first-use costs stay out of the ladder.
  for (const server of servers) {
    await server.client.call("steady", {
      group,
      target: server.target,
      projects: server.projects.spread.map((p) => p.id),
      ratePerSec: steady.rates[0] ?? 100,
      durationMs: Math.min(1_000, steady.stepMs),
      payloadBytes,
      tag: `steady-${server.name}-warm`,
      drainDeadlineMs: 5 * steady.stepMs + 10_000,
    });
  }
  const fresh = (): SteadyServerResult => ({ steps: [], maxSustainedDeliveriesPerSec: 0 });
  const out: Record<ServerName, SteadyServerResult> = { baseline: fresh(), genstream: fresh(), redis: fresh() };
  const climbing = new Set<ServerName>(servers.map((s) => s.name));
  for (const [round, rate] of steady.rates.entries()) {
    for (const server of inTurn(servers, round)) {
      const name = server.name;
      if (!climbing.has(name)) continue;
      const step = await runSteadyStep(ctx, server, group, rate, String(rate));
      out[name].steps.push(step);
      if (step.sustained) out[name].maxSustainedDeliveriesPerSec = step.offeredDeliveriesPerSec;
      else climbing.delete(name);
    }
    if (climbing.size === 0) break;
  }
  for (const server of servers) await closeGroup(ctx, server, group);
  const measuredByBoth = (rate: number, needSustained: boolean): boolean =>
    (["baseline", "genstream"] as const).every((n) =>
      out[n].steps.some((s) => s.offeredEventsPerSec === rate && (s.sustained || !needSustained)),
    );
  const sustainedByBoth = steady.rates.filter((rate) => measuredByBoth(rate, true));
  const comparedAt = sustainedByBoth.at(-1) ?? steady.rates.find((rate) => measuredByBoth(rate, false)) ?? null;
  return {
    projects: projects.length,
    perProject: steady.perProject,
    stepMs: steady.stepMs,
    baseline: out.baseline,
    genstream: out.genstream,
    redis: ctx.redis ? out.redis : null,
    comparedAtEventsPerSec: comparedAt,
    comparedAtSustained: sustainedByBoth.length > 0,
  };
}

/** One rate step on one server's group, with the server's CPU from /proc around it. */
export async function runSteadyStep(
  ctx: PhaseContext,
  server: BenchServer,
  group: string,
  rate: number,
  label: string,
  kind: StreamKind = "project",
): Promise<SteadyStep> {
  const { steady, payloadBytes } = ctx.sizes;
  const mux = kind === "mux" ? "-mux" : "";
  const before = sampleProcess(server.proc.pid);
  const r = await server.client.call("steady", {
    group,
    target: server.target,
    projects: server.projects.spread.map((p) => p.id),
    ratePerSec: rate,
    durationMs: label === "warm" ? Math.min(1_000, steady.stepMs) : steady.stepMs,
    payloadBytes,
    tag: `steady${mux}-${server.name}-${label}`,
    drainDeadlineMs: 5 * steady.stepMs + 10_000,
  });
  const after = sampleProcess(server.proc.pid);
  const serverCpuMs = after.cpuMs - before.cpuMs;
  ctx.problems.miss(server.name, r.misses + r.orderErrors, `steady state${mux ? " (mux)" : ""} at ${rate} events/s`);
  const step: SteadyStep = {
    ...r,
    serverCpuMs,
    serverSystemMs: after.systemMs - before.systemMs,
    serverCpuPercent: (100 * serverCpuMs) / r.wallMs,
    clientCpuPercent: (100 * r.clientCpuMs) / r.wallMs,
    // /proc counts CPU in 10 ms ticks: a step too short to register any is reported as unknown (NaN -> null in JSON).
    cpuMsPer1kDeliveries: serverCpuMs > 0 ? (serverCpuMs * 1000) / r.received : Number.NaN,
    deliveriesPerCpuSecond: serverCpuMs > 0 ? (r.received * 1000) / serverCpuMs : Number.NaN,
    sustained: sustained(r),
  };
  if (label !== "warm") {
    const q = (v: number[]) => v.map((x) => x.toFixed(1)).join("/");
    ctx.log(
      `  ${server.name}${mux ? " (mux)" : ""} @${rate} ev/s (${r.offeredDeliveriesPerSec} deliveries/s): quarters p50 ${q(r.windowP50Ms)} p99 ${q(r.windowP99Ms)} ms; server CPU ${serverCpuMs.toFixed(0)} ms (${step.serverCpuPercent.toFixed(0)}%, sys ${step.serverSystemMs.toFixed(0)}; ${step.cpuMsPer1kDeliveries.toFixed(2)} ms/1k); client CPU ${step.clientCpuPercent.toFixed(0)}%, loop max ${r.clientLoop.maxMs.toFixed(0)} ms${step.sustained ? "" : "  <- not sustained"}`,
    );
  }
  return step;
}
