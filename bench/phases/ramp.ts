import type { ProjectRef } from "../client/commands";
import type { OpenResult } from "../client/pool";
import type { StreamKind } from "../client/sse-connection";
import { fileLimits } from "../lib/file-limit";
import { openFilesLimit, sampleProcess, type ProcSample } from "../lib/proc";
import { collectGarbage, type HeapSample } from "../servers";
import { closeGroup, groups, type BenchServer, type PhaseContext } from "./context";

export interface CapacityStep {
  connections: number;
  rssBytes: number;
  /** RSS minus the idle RSS measured before the first connection of the ramp. */
  aboveIdleBytes: number;
  perConnectionBytes: number;
  /** Live JS heap after a full GC, and per held connection above idle (less noisy than RSS in a big process). */
  heap: HeapSample;
  heapPerConnectionBytes: number;
  openFiles: number;
}

export interface CapacityResult {
  idleRssBytes: number;
  idleHeap: HeapSample;
  steps: CapacityStep[];
  /** Set when the top step was lowered to fit the open-files limit of the server or its load client. */
  cappedBy: string | null;
}

export interface RampResult {
  capacity: CapacityResult;
  /** Connection setup: the ramp's first segment, fresh connections into an otherwise idle server. */
  setup: OpenResult;
}

interface Segment {
  group: string;
  projects: ProjectRef[];
  count: number;
}

export const FD_MARGIN = 64;

/**
 * Opens every connection of the run once, in this order: the fan-out groups (one project each),
 * the steady-state group (spread), then extra spread connections up to the top capacity step; reads
 * the server's RSS (after a full GC) at each capacity step. The extra group is closed at the end;
 * the others stay open for the fan-out and steady-state phases. `scope: "phases"` (the Redis variant)
 * opens only what the fan-out and steady-state phases use, no capacity extras; `"fanout"` only the fan-out groups.
 */
export async function measureRamp(
  ctx: PhaseContext,
  server: BenchServer,
  scope: "all" | "phases" | "fanout" = "all",
  kind: StreamKind = "project",
): Promise<RampResult> {
  const { sizes } = ctx;
  const { projects } = server;
  const { client, target } = server;
  const warm = await client.call("open", {
    group: "warm",
    target,
    projects: projects.spread,
    count: Math.min(20, projects.spread.length),
    concurrency: 8,
    kind,
  });
  const warmCheck = await client.call("broadcast", {
    group: "warm",
    target,
    projectId: projects.spread[0]?.id ?? "",
    // Tags are event keys: the app drops a key it has logged already (the per-project ramp's warm-up used "warm").
    tag: kind === "mux" ? "warm-mux" : "warm",
    payloadBytes: sizes.payloadBytes,
    deadlineMs: 10_000,
  });
  ctx.problems.miss(server.name, warmCheck.misses, `ramp warm-up${kind === "mux" ? " (mux)" : ""}`);
  if (warm.failed > 0)
    ctx.problems.fail(
      `${server.name}: ${warm.failed} warm-up connection(s)${kind === "mux" ? " (mux)" : ""} failed: ${warm.errors.join("; ")}`,
    );
  await closeGroup(ctx, server, "warm");

  const sample = async (): Promise<ProcSample & { heap: HeapSample }> => {
    const heap = await collectGarbage(server.proc);
    return { ...sampleProcess(server.proc.pid), heap };
  };
  const idle = await sample();
  const room =
    Math.min(openFilesLimit(server.proc.pid) - idle.openFiles, openFilesLimit(client.pid) - sampleProcess(client.pid).openFiles) -
    FD_MARGIN;
  const top = sizes.capacity.steps[sizes.capacity.steps.length - 1] ?? 0;
  const fixed: Segment[] = [
    ...sizes.fanout.sizes.map((size, i) => ({
      group: groups.fanout(size, kind),
      projects: [projects.fanout[i] ?? { id: "", cookie: "" }],
      count: size,
    })),
    ...(scope === "fanout"
      ? []
      : [{ group: groups.steady(kind), projects: projects.spread, count: projects.spread.length * sizes.steady.perProject }]),
  ];
  const held = fixed.reduce((n, s) => n + s.count, 0);
  const segments: Segment[] = [
    ...fixed,
    { group: groups.extra, projects: projects.spread, count: scope === "all" ? Math.max(0, Math.min(top, room) - held) : 0 },
  ];

  const steps: CapacityStep[] = [];
  let total = 0;
  let setup: OpenResult | null = null;
  // The multiplexed ramp (scope "phases") holds only the phases' groups: its top step is what they hold.
  const thresholds =
    kind === "mux" ? [...sizes.capacity.steps.filter((t) => t < held), held] : sizes.capacity.steps.map((t) => Math.min(t, room));
  for (const segment of segments) {
    let left = segment.count;
    while (left > 0) {
      const next = thresholds.find((t) => t > total) ?? Number.POSITIVE_INFINITY;
      const count = Math.min(left, next - total);
      const r = await client.call("open", {
        group: segment.group,
        target,
        projects: segment.projects,
        count,
        concurrency: sizes.openConcurrency,
        kind,
      });
      if (r.failed > 0) ctx.problems.fail(`${server.name}: ${r.failed} connection(s) of ${segment.group} failed: ${r.errors.join("; ")}`);
      setup ??= r;
      total += r.opened;
      left -= count;
      if (thresholds.includes(total)) {
        const s = await sample();
        steps.push({
          connections: total,
          rssBytes: s.rssBytes,
          aboveIdleBytes: s.rssBytes - idle.rssBytes,
          perConnectionBytes: (s.rssBytes - idle.rssBytes) / total,
          heap: s.heap,
          heapPerConnectionBytes: (s.heap.heapUsedBytes + s.heap.externalBytes - idle.heap.heapUsedBytes - idle.heap.externalBytes) / total,
          openFiles: s.openFiles,
        });
        const ready = `ready p50/p99/max ${r.readyMs.p50.toFixed(0)}/${r.readyMs.p99.toFixed(0)}/${r.readyMs.max.toFixed(0)} ms`;
        ctx.log(
          `  ${server.name}${kind === "mux" ? " (mux)" : ""}: ${total} held, RSS ${(s.rssBytes / 2 ** 20).toFixed(1)} MB (+${((s.rssBytes - idle.rssBytes) / 2 ** 20).toFixed(1)} MB), heap ${(s.heap.heapUsedBytes / 2 ** 20).toFixed(1)} MB; last segment ${r.perSecond.toFixed(0)} conn/s, ${ready}`,
        );
      }
    }
  }
  // Every extra connection is still live: one broadcast to a spread project reaches all of its connections.
  const check = await client.call("broadcast", {
    group: groups.extra,
    target,
    projectId: projects.spread[0]?.id ?? "",
    tag: kind === "mux" ? "ramp-check-mux" : "ramp-check",
    payloadBytes: sizes.payloadBytes,
    deadlineMs: 30_000,
  });
  ctx.problems.miss(server.name, check.misses + check.unexpected, "capacity liveness check");
  await closeGroup(ctx, server, groups.extra);
  const limits = fileLimits(server.proc.pid);
  const cappedBy =
    scope === "all" && room < top
      ? `open-files limit (server: soft ${limits.soft}, hard ${limits.hard}; load client alike): ${total} of ${top} held — raising the hard limit needs root/CAP_SYS_RESOURCE`
      : null;
  if (!setup) throw new Error("the ramp opened no connection");
  return { capacity: { idleRssBytes: idle.rssBytes, idleHeap: idle.heap, steps, cappedBy }, setup };
}
