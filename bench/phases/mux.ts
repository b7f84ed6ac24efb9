import type { OpenResult, SubscribeResult } from "../client/pool";
import { sampleProcess } from "../lib/proc";
import { collectGarbage, type HeapSample } from "../servers";
import { closeGroup, groups, type BenchServer, type PhaseContext, type ServerName } from "./context";
import { measureFanout, type FanoutResult } from "./fanout";
import { measureRamp, type CapacityResult } from "./ramp";
import { runSteadyStep, type SteadyStep } from "./steady";

/** Memory of held subscriptions: N mux connections (one subscription each), then K more on each. */
export interface SubscriptionMemory {
  connections: number;
  /** Subscriptions added on the open connections (N x K, fewer when an account owns fewer projects). */
  added: number;
  before: { rssBytes: number; heap: HeapSample };
  after: { rssBytes: number; heap: HeapSample };
  rssPerSubscriptionBytes: number;
  heapPerSubscriptionBytes: number;
  /** stream.subscribe sent -> `ready {projectId}` on the already-open connection. */
  subscribe: SubscribeResult;
}

export interface MuxServerResult {
  setup: OpenResult;
  capacity: CapacityResult;
  steady: SteadyStep | null;
  subscriptions: SubscriptionMemory | null;
}

export interface MuxPhaseResult {
  baseline: MuxServerResult;
  genstream: MuxServerResult;
  /** The Redis variant: setup and fan-out only (no capacity, steady or subscription memory). */
  redis: { setup: OpenResult } | null;
  fanout: FanoutResult[];
  /** The steady step's event rate (the per-project phase's comparison rate), null when it had none. */
  steadyEventsPerSec: number | null;
  /** stream.subscribe calls in flight at once in the subscription-memory step. */
  subscriptionsInFlight: number;
}

/**
 * The multiplexed stream (`GET /api/stream` + `stream.subscribe` per connection), after the
 * per-project phases have closed their groups: a ramp that opens the fan-out and steady groups as
 * mux connections (setup = its first segment; RSS sampled at each capacity step up to what those
 * groups hold), the fan-out broadcasts, one steady step at the per-project comparison rate, then
 * N connections x K more subscriptions each (RSS and heap per subscription, subscribe -> ready).
 */
export async function measureMux(ctx: PhaseContext, steadyRate: number | null): Promise<MuxPhaseResult> {
  const [baseline, genstream] = ctx.servers;
  const ramp = {
    baseline: await measureRamp(ctx, baseline, "phases", "mux"),
    genstream: await measureRamp(ctx, genstream, "phases", "mux"),
  };
  // The Redis variant: fan-out and setup only (no steady step on it), so only the fan-out groups.
  const redisRamp = ctx.redis ? await measureRamp(ctx, ctx.redis, "fanout", "mux") : null;
  for (const [name, r] of Object.entries({ ...ramp, ...(redisRamp ? { redis: redisRamp } : {}) })) {
    ctx.log(
      `  setup ${name} (mux): ${r.setup.perSecond.toFixed(0)} conn/s, ready p50 ${r.setup.readyMs.p50.toFixed(1)} ms p99 ${r.setup.readyMs.p99.toFixed(1)} ms`,
    );
  }
  const fanout: FanoutResult[] = [];
  for (const i of ctx.sizes.fanout.sizes.keys()) fanout.push(await measureFanout(ctx, i, "mux"));

  const steady: Record<ServerName, SteadyStep | null> = { baseline: null, genstream: null, redis: null };
  if (steadyRate !== null) {
    for (const server of [baseline, genstream]) {
      await runSteadyStep(ctx, server, groups.steady("mux"), ctx.sizes.steady.rates[0] ?? 100, "warm", "mux");
      steady[server.name] = await runSteadyStep(ctx, server, groups.steady("mux"), steadyRate, "measured", "mux");
    }
  }
  for (const server of ctx.redis ? [...ctx.servers, ctx.redis] : ctx.servers) await closeGroup(ctx, server, groups.steady("mux"));

  const subscriptions = {
    baseline: await measureSubscriptions(ctx, baseline),
    genstream: await measureSubscriptions(ctx, genstream),
  };
  const result = (name: "baseline" | "genstream"): MuxServerResult => ({
    setup: ramp[name].setup,
    capacity: ramp[name].capacity,
    steady: steady[name],
    subscriptions: subscriptions[name],
  });
  return {
    baseline: result("baseline"),
    genstream: result("genstream"),
    redis: redisRamp ? { setup: redisRamp.setup } : null,
    fanout,
    steadyEventsPerSec: steadyRate,
    subscriptionsInFlight: ctx.sizes.mux.subscriptions.concurrency,
  };
}

async function measureSubscriptions(ctx: PhaseContext, server: BenchServer): Promise<SubscriptionMemory> {
  const { connections, perConnection, concurrency } = ctx.sizes.mux.subscriptions;
  const group = "mux-subscriptions";
  const { client, target, projects } = server;
  const opened = await client.call("open", {
    group,
    target,
    projects: projects.spread,
    count: connections,
    concurrency: ctx.sizes.openConcurrency,
    kind: "mux",
  });
  if (opened.failed > 0) ctx.problems.fail(`${server.name}: ${opened.failed} mux connection(s) failed: ${opened.errors.join("; ")}`);
  const sample = async (): Promise<{ rssBytes: number; heap: HeapSample }> => {
    const heap = await collectGarbage(server.proc);
    return { rssBytes: sampleProcess(server.proc.pid).rssBytes, heap };
  };
  const before = await sample();
  const subscribe = await client.call("subscribe", {
    group,
    projects: projects.spread,
    perConnection,
    concurrency,
  });
  if (subscribe.failed > 0) ctx.problems.fail(`${server.name}: ${subscribe.failed} subscription(s) failed: ${subscribe.errors.join("; ")}`);
  const after = await sample();
  // Every added subscription is live: one broadcast to a project reaches the connections whose first subscription it is.
  const check = await client.call("broadcast", {
    group,
    target,
    projectId: projects.spread[0]?.id ?? "",
    tag: "mux-subs-check",
    payloadBytes: ctx.sizes.payloadBytes,
    deadlineMs: 30_000,
  });
  ctx.problems.miss(server.name, check.misses + check.unexpected, "mux subscriptions liveness check");
  await closeGroup(ctx, server, group);
  const added = Math.max(1, subscribe.subscribed);
  const live = (h: HeapSample): number => h.heapUsedBytes + h.externalBytes;
  const r: SubscriptionMemory = {
    connections: opened.opened,
    added: subscribe.subscribed,
    before,
    after,
    rssPerSubscriptionBytes: (after.rssBytes - before.rssBytes) / added,
    heapPerSubscriptionBytes: (live(after.heap) - live(before.heap)) / added,
    subscribe,
  };
  ctx.log(
    `  ${server.name} (mux): ${r.connections} conns + ${r.added} subscriptions: RSS ${(r.rssPerSubscriptionBytes / 1024).toFixed(2)} KB, heap+external ${(r.heapPerSubscriptionBytes / 1024).toFixed(2)} KB per subscription; subscribe -> ready p50 ${subscribe.readyMs.p50.toFixed(1)} ms p99 ${subscribe.readyMs.p99.toFixed(1)} ms (${subscribe.perSecond.toFixed(0)}/s)`,
  );
  return r;
}
