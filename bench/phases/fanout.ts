import type { BroadcastResult } from "../client/broadcast";
import type { StreamKind } from "../client/sse-connection";
import { median } from "../lib/stats";
import { closeGroup, groups, inTurn, type PhaseContext, type ServerName } from "./context";

export interface FanoutServerResult {
  connections: number;
  /** Medians over the measured broadcasts of each broadcast's p50 / p99 / max. */
  p50: number;
  p99: number;
  max: number;
  worstP99: number;
  /** Median over broadcasts of the time the server spent inside publish (serialise + every write). */
  serverPublishMs: number;
  /** Worst stall of the load client's event loop during any broadcast (inflates receipt times). */
  clientLoopMaxMs: number;
  broadcasts: Array<
    Pick<BroadcastResult, "received" | "misses" | "serverPublishMs"> & { p50: number; p99: number; max: number; clientLoopMaxMs: number }
  >;
}

export interface FanoutResult {
  connections: number;
  baseline: FanoutServerResult;
  genstream: FanoutServerResult;
  /** Genstream with the Redis Streams log (REDIS_URL), same run; null with --no-redis. */
  redis: FanoutServerResult | null;
}

/**
 * Fan-out latency: the ramp left `size` connections on one project of each server (the `index`-th
 * fan-out project); broadcasts rotate between the servers, each waiting until every connection has it.
 * The group is closed after.
 */
export async function measureFanout(ctx: PhaseContext, index: number, kind: StreamKind = "project"): Promise<FanoutResult> {
  const { fanout, payloadBytes } = ctx.sizes;
  const size = fanout.sizes[index] ?? 0;
  const group = groups.fanout(size, kind);
  const servers = ctx.redis ? [...ctx.servers, ctx.redis] : [...ctx.servers];
  const per: Record<ServerName, FanoutServerResult["broadcasts"]> = { baseline: [], genstream: [], redis: [] };
  for (let round = 0; round < fanout.warmup + fanout.broadcasts; round++) {
    for (const server of inTurn(servers, round)) {
      const projectId = server.projects.fanout[index]?.id ?? "";
      const tag = `${kind === "mux" ? "mux" : ""}fan${size}-${server.name}-${round}`;
      const r = await server.client.call("broadcast", {
        group,
        target: server.target,
        projectId,
        tag,
        payloadBytes,
        deadlineMs: fanout.deadlineMs,
      });
      ctx.problems.miss(server.name, r.misses + r.unexpected, `fan-out ${size} broadcast ${round}`);
      if (round >= fanout.warmup) {
        const { received, misses, serverPublishMs, latencyMs: l } = r;
        per[server.name].push({
          received,
          misses,
          serverPublishMs,
          p50: l.p50,
          p99: l.p99,
          max: l.max,
          clientLoopMaxMs: r.clientLoop.maxMs,
        });
      }
    }
  }
  for (const server of servers) await closeGroup(ctx, server, group);
  const summary = (name: ServerName): FanoutServerResult => {
    const b = per[name];
    return {
      connections: size,
      p50: median(b.map((x) => x.p50)),
      p99: median(b.map((x) => x.p99)),
      max: median(b.map((x) => x.max)),
      worstP99: Math.max(...b.map((x) => x.p99)),
      serverPublishMs: median(b.map((x) => x.serverPublishMs)),
      clientLoopMaxMs: Math.max(...b.map((x) => x.clientLoopMaxMs)),
      broadcasts: b,
    };
  };
  const result: FanoutResult = {
    connections: size,
    baseline: summary("baseline"),
    genstream: summary("genstream"),
    redis: ctx.redis ? summary("redis") : null,
  };
  for (const server of servers) {
    const name = server.name;
    const r = result[name];
    if (!r) continue;
    ctx.log(
      `  ${name}${kind === "mux" ? " (mux)" : ""} @${size}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(2)} ms; server publish ${r.serverPublishMs.toFixed(2)} ms; client loop max ${r.clientLoopMaxMs.toFixed(1)} ms`,
    );
  }
  return result;
}
