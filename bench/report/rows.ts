import { TOKEN_TARGETS, type TokensPhaseResult, type TokenVariantResult } from "../phases/tokens";
import type { Row, Measurements, TokenRow } from "./types";
import { SETUP_TARGETS } from "./targets";

const MB = 2 ** 20;

function ratioOf(value: number | null, baseline: number | null): number | null {
  return baseline !== null && value !== null && baseline !== 0 && Number.isFinite(baseline) && Number.isFinite(value)
    ? value / baseline
    : null;
}

function row(
  figure: string,
  unit: string,
  baseline: number | null,
  genstream: number | null,
  target = "",
  redis: number | null = null,
): Row {
  return { figure, unit, baseline, genstream, ratio: ratioOf(genstream, baseline), redis, redisRatio: ratioOf(redis, baseline), target };
}

/** The table: one row per figure, in the order (fan-out, steady state, capacity, setup, end to end). */
export function buildRows(m: Measurements): Row[] {
  const rows: Row[] = [];
  for (const f of m.fanout) {
    const n = f.connections.toLocaleString("en-US");
    const r = f.redis;
    rows.push(row(`fan-out ${n} conns: p50`, "ms", f.baseline.p50, f.genstream.p50, "", r?.p50 ?? null));
    rows.push(row(`fan-out ${n} conns: p99`, "ms", f.baseline.p99, f.genstream.p99, "<= 1.5x", r?.p99 ?? null));
    rows.push(row(`fan-out ${n} conns: max`, "ms", f.baseline.max, f.genstream.max, "", r?.max ?? null));
    rows.push(
      row(
        `fan-out ${n} conns: server publish (serialise + all writes)`,
        "ms",
        f.baseline.serverPublishMs,
        f.genstream.serverPublishMs,
        "",
        r?.serverPublishMs ?? null,
      ),
    );
  }
  for (const f of m.mux.fanout) {
    const n = f.connections.toLocaleString("en-US");
    const r = f.redis;
    rows.push(row(`mux: fan-out ${n} conns: p50`, "ms", f.baseline.p50, f.genstream.p50, "", r?.p50 ?? null));
    rows.push(
      row(`mux: fan-out ${n} conns: p99`, "ms", f.baseline.p99, f.genstream.p99, `<= ${SETUP_TARGETS.muxFanoutP99}x`, r?.p99 ?? null),
    );
    rows.push(row(`mux: fan-out ${n} conns: max`, "ms", f.baseline.max, f.genstream.max, "", r?.max ?? null));
  }
  const s = m.steady;
  const shape = `${s.projects}x${s.perProject}`;
  rows.push(
    row(
      `steady ${shape}: max sustained deliveries/s`,
      "/s",
      s.baseline.maxSustainedDeliveriesPerSec,
      s.genstream.maxSustainedDeliveriesPerSec,
      "",
      s.redis?.maxSustainedDeliveriesPerSec ?? null,
    ),
  );
  const at = s.comparedAtEventsPerSec;
  const stepAt = (name: "baseline" | "genstream" | "redis") => s[name]?.steps.find((x) => x.offeredEventsPerSec === at) ?? null;
  const b = stepAt("baseline");
  const g = stepAt("genstream");
  const r = stepAt("redis");
  const load =
    at === null
      ? "(no common rate)"
      : `@${(b?.offeredDeliveriesPerSec ?? 0).toLocaleString("en-US")}/s${s.comparedAtSustained ? "" : " (not sustained)"}`;
  rows.push(
    row(
      `steady ${shape}: server CPU per 1k deliveries ${load}`,
      "ms",
      b?.cpuMsPer1kDeliveries ?? null,
      g?.cpuMsPer1kDeliveries ?? null,
      "",
      r?.cpuMsPer1kDeliveries ?? null,
    ),
  );
  rows.push(
    row(
      `steady ${shape}: deliveries per CPU-second ${load}`,
      "/s",
      b?.deliveriesPerCpuSecond ?? null,
      g?.deliveriesPerCpuSecond ?? null,
      ">= 0.6x",
      r?.deliveriesPerCpuSecond ?? null,
    ),
  );
  const ms = m.mux;
  const muxAt = ms.steadyEventsPerSec;
  const muxLoad = muxAt === null ? "(no rate)" : `@${(ms.baseline.steady?.offeredDeliveriesPerSec ?? 0).toLocaleString("en-US")}/s`;
  rows.push(
    row(
      `mux: steady ${shape}: server CPU per 1k deliveries ${muxLoad}`,
      "ms",
      ms.baseline.steady?.cpuMsPer1kDeliveries ?? null,
      ms.genstream.steady?.cpuMsPer1kDeliveries ?? null,
    ),
  );
  rows.push(
    row(
      `mux: steady ${shape}: deliveries per CPU-second ${muxLoad}`,
      "/s",
      ms.baseline.steady?.deliveriesPerCpuSecond ?? null,
      ms.genstream.steady?.deliveriesPerCpuSecond ?? null,
      `>= ${SETUP_TARGETS.muxDeliveriesPerCpu}x`,
    ),
  );
  const cb = m.capacity.baseline;
  const cg = m.capacity.genstream;
  rows.push(row("capacity: idle RSS (before connections)", "MB", cb.idleRssBytes / MB, cg.idleRssBytes / MB));
  rows.push(row("capacity: idle JS heap used (after full GC)", "MB", cb.idleHeap.heapUsedBytes / MB, cg.idleHeap.heapUsedBytes / MB));
  rows.push(row("capacity: idle external (WASM, Buffers)", "MB", cb.idleHeap.externalBytes / MB, cg.idleHeap.externalBytes / MB));
  cb.steps.forEach((step, i) => {
    const other = cg.steps[i];
    rows.push(
      row(
        `capacity: RSS above idle @${step.connections.toLocaleString("en-US")} held`,
        "MB",
        step.aboveIdleBytes / MB,
        other ? other.aboveIdleBytes / MB : null,
      ),
    );
  });
  const top = (c: typeof cb) => c.steps[c.steps.length - 1];
  const tb = top(cb);
  const tg = top(cg);
  rows.push(
    row(
      `capacity: RSS per held connection @${(tg?.connections ?? 0).toLocaleString("en-US")}`,
      "KB",
      tb ? tb.perConnectionBytes / 1024 : null,
      tg ? tg.perConnectionBytes / 1024 : null,
      "<= 1.5x @ >= 20k",
    ),
  );
  const slope = (c: typeof cb): number | null => {
    const first = c.steps[0];
    const last = c.steps.at(-1);
    return first && last && last.connections > first.connections
      ? (last.rssBytes - first.rssBytes) / (last.connections - first.connections) / 1024
      : null;
  };
  rows.push(
    row(
      `capacity: RSS per connection, slope from ${(cg.steps[0]?.connections ?? 0).toLocaleString("en-US")} to top step (idle noise cancels)`,
      "KB",
      slope(cb),
      slope(cg),
    ),
  );
  rows.push(
    row(
      `capacity: JS heap + external per held connection @${(tg?.connections ?? 0).toLocaleString("en-US")}`,
      "KB",
      tb ? tb.heapPerConnectionBytes / 1024 : null,
      tg ? tg.heapPerConnectionBytes / 1024 : null,
    ),
  );
  const mb = ms.baseline.capacity;
  const mg = ms.genstream.capacity;
  const mtb = top(mb);
  const mtg = top(mg);
  const held = (mtg?.connections ?? 0).toLocaleString("en-US");
  rows.push(
    row(
      `mux: capacity: RSS per held connection @${held} (1 subscription each)`,
      "KB",
      mtb ? mtb.perConnectionBytes / 1024 : null,
      mtg ? mtg.perConnectionBytes / 1024 : null,
    ),
  );
  rows.push(
    row(
      `mux: capacity: RSS per connection, slope from ${(mg.steps[0]?.connections ?? 0).toLocaleString("en-US")} to ${held}`,
      "KB",
      slope(mb),
      slope(mg),
    ),
  );
  rows.push(
    row(
      `mux: capacity: JS heap + external per held connection @${held}`,
      "KB",
      mtb ? mtb.heapPerConnectionBytes / 1024 : null,
      mtg ? mtg.heapPerConnectionBytes / 1024 : null,
    ),
  );
  const t = SETUP_TARGETS;
  rows.push(row("setup: new connections/s", "/s", m.setup.baseline.perSecond, m.setup.genstream.perSecond, `>= ${t.perSecond}x`));
  rows.push(row("setup: connect -> ready p50", "ms", m.setup.baseline.readyMs.p50, m.setup.genstream.readyMs.p50, `<= ${t.readyP50}x`));
  rows.push(row("setup: connect -> ready p99", "ms", m.setup.baseline.readyMs.p99, m.setup.genstream.readyMs.p99));
  const mr = ms.redis?.setup ?? null;
  rows.push(
    row(
      "mux: setup: new connections/s (GET /api/stream + stream.subscribe)",
      "/s",
      ms.baseline.setup.perSecond,
      ms.genstream.setup.perSecond,
      `>= ${t.perSecond}x`,
      mr?.perSecond ?? null,
    ),
  );
  rows.push(
    row(
      "mux: setup: connect -> ready {projectId} p50",
      "ms",
      ms.baseline.setup.readyMs.p50,
      ms.genstream.setup.readyMs.p50,
      `<= ${t.readyP50}x`,
      mr?.readyMs.p50 ?? null,
    ),
  );
  rows.push(
    row(
      "mux: setup: connect -> ready {projectId} p99",
      "ms",
      ms.baseline.setup.readyMs.p99,
      ms.genstream.setup.readyMs.p99,
      "",
      mr?.readyMs.p99 ?? null,
    ),
  );
  const sb = ms.baseline.subscriptions;
  const sg = ms.genstream.subscriptions;
  if (sb && sg) {
    const inFlight = `${sg.subscribe.subscribed} subscribes, ${m.mux.subscriptionsInFlight} in flight`;
    rows.push(
      row(`mux: subscribe on an open connection -> ready p50 (${inFlight})`, "ms", sb.subscribe.readyMs.p50, sg.subscribe.readyMs.p50),
    );
    rows.push(row("mux: subscribe on an open connection -> ready p99", "ms", sb.subscribe.readyMs.p99, sg.subscribe.readyMs.p99));
    rows.push(row("mux: subscribes/s on open connections", "/s", sb.subscribe.perSecond, sg.subscribe.perSecond));
    const shapeSubs = `${sg.connections} conns + ${sg.added} subscriptions`;
    rows.push(
      row(`mux: RSS per held subscription (${shapeSubs})`, "KB", sb.rssPerSubscriptionBytes / 1024, sg.rssPerSubscriptionBytes / 1024),
    );
    rows.push(
      row("mux: JS heap + external per held subscription", "KB", sb.heapPerSubscriptionBytes / 1024, sg.heapPerSubscriptionBytes / 1024),
    );
  }
  const e = m.e2e;
  rows.push(row("end to end: send -> run.started p50", "ms", null, e.ran ? e.runStartedMs.p50 : null, "<= 100 ms"));
  rows.push(row("end to end: send -> run.started p95", "ms", null, e.ran ? e.runStartedMs.p95 : null));
  return rows;
}

/** The token-streaming table: uncoalesced, coalesced (what ships), ratio coalesced / uncoalesced, target. */
export function buildTokenRows(t: TokensPhaseResult): TokenRow[] {
  const rows: TokenRow[] = [];
  const add = (figure: string, unit: string, pick: (v: TokenVariantResult) => number | null, target = ""): void => {
    const u = pick(t.uncoalesced);
    const c = pick(t.coalesced);
    rows.push({ figure, unit, uncoalesced: u, coalesced: c, ratio: ratioOf(c, u), target });
  };
  add("model tokens/s per generation (achieved)", "/s", (v) => v.modelTokensPerSecond);
  add("text events per connection per second (median)", "/s", (v) => v.eventsPerConnectionPerSecond.p50);
  add("text events per generation", "", (v) => v.textEventsPerGeneration);
  add("token latency, chunk written -> every connection: p50", "ms", (v) => v.latencyMs.p50);
  add("token latency, chunk written -> every connection: p99", "ms", (v) => v.latencyMs.p99, `<= ${TOKEN_TARGETS.p99LatencyMs} ms`);
  add("token latency, chunk written -> every connection: max", "ms", (v) => v.latencyMs.max);
  add("token latency, chunk written -> first connection: p50", "ms", (v) => v.firstClientLatencyMs.p50);
  add(
    "server CPU per delivered token (first chunk -> whole text on every connection)",
    "µs",
    (v) => v.streaming.cpuUsPerToken,
    `<= ${TOKEN_TARGETS.cpuRatio}x`,
  );
  add("server CPU use in that window (100 = one core)", "%", (v) => v.streaming.cpuPercent);
  add("window: first chunk written -> whole text on every connection", "s", (v) => v.streaming.ms / 1000);
  add("message.send -> first model chunk (held until every generation asked): max", "ms", (v) => v.sendToStreamMs.max);
  add("generations' first chunks spread over", "ms", (v) => v.startSpreadMs);
  add("load client event-loop delay max", "ms", (v) => v.clientLoop.maxMs);
  return rows;
}
