import { Histogram } from "../lib/histogram";
import { completion } from "./deadline";
import { watchLoop, type LoopDelay } from "./loop-delay";
import type { SseConnection, Target } from "./sse-connection";
import { trigger } from "./trigger";

const WINDOWS = 4;

export interface SteadyResult {
  offeredEventsPerSec: number;
  offeredDeliveriesPerSec: number;
  expected: number;
  received: number;
  misses: number;
  orderErrors: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** p50 / p99 latency of the events due in each quarter of the step: growth means the server falls behind. */
  windowP50Ms: number[];
  windowP99Ms: number[];
  /** Time the server spent inside publish (incl. the synchronous fan-out writes), summed over the step. */
  serverPublishMs: number;
  clientLoop: LoopDelay;
  /** First trigger sent to last delivery received. */
  wallMs: number;
  achievedDeliveriesPerSec: number;
  clientCpuMs: number;
}

const wallClock = (): number => performance.timeOrigin + performance.now();

/**
 * One rate step: every project publishes at `ratePerSec / projects` events/s for `durationMs`
 * (open loop, server-side pacing); waits until every connection has every event of the step.
 */
export async function measureSteady(
  target: Target,
  conns: SseConnection[],
  projects: string[],
  ratePerSec: number,
  durationMs: number,
  payloadBytes: number,
  tag: string,
  drainDeadlineMs: number,
): Promise<SteadyResult> {
  const perProjectRate = ratePerSec / projects.length;
  const count = Math.max(1, Math.round((perProjectRate * durationMs) / 1000));
  const wanted = new Set(projects);
  const mine = conns.filter((c) => wanted.has(c.projectId) && !c.closed);
  const next = new Uint32Array(mine.length);
  const total = new Histogram();
  const windows = Array.from({ length: WINDOWS }, () => new Histogram());
  let expected = mine.length * count;
  let received = 0;
  let orderErrors = 0;
  let lastAt = 0;
  const finished = completion(drainDeadlineMs);
  mine.forEach((conn, slot) => {
    conn.slot = slot;
    conn.onBench = (c, t, index, stamp, at) => {
      if (t !== tag) return void orderErrors++;
      if (index !== next[c.slot]) orderErrors++;
      next[c.slot] = index + 1;
      const ms = at - stamp;
      total.record(ms);
      windows[Math.min(WINDOWS - 1, Math.floor((index * WINDOWS) / count))]?.record(ms);
      lastAt = at;
      if (++received === expected) finished.done();
    };
    conn.onClose = (c) => {
      expected -= count - (next[c.slot] ?? 0);
      if (received >= expected) finished.done();
    };
  });
  const cpu = process.cpuUsage();
  const loop = watchLoop();
  const t0 = wallClock();
  const published = await Promise.all(projects.map((p) => trigger(target, p, { count, payloadBytes, tag, ratePerSec: perProjectRate })));
  finished.arm();
  await finished.promise;
  const clientLoop = loop();
  const used = process.cpuUsage(cpu);
  for (const conn of mine) {
    conn.onBench = null;
    conn.onClose = null;
  }
  const all = mine.length * count;
  const wallMs = (lastAt || wallClock()) - t0;
  return {
    offeredEventsPerSec: ratePerSec,
    offeredDeliveriesPerSec: (ratePerSec * mine.length) / projects.length,
    expected: all,
    received,
    misses: all - received,
    orderErrors,
    latencyMs: { p50: total.percentile(50), p99: total.percentile(99), max: total.max },
    windowP50Ms: windows.map((w) => w.percentile(50)),
    windowP99Ms: windows.map((w) => w.percentile(99)),
    serverPublishMs: published.reduce((sum, r) => sum + r.publishMs, 0),
    clientLoop,
    wallMs,
    achievedDeliveriesPerSec: (received * 1000) / wallMs,
    clientCpuMs: (used.user + used.system) / 1000,
  };
}
