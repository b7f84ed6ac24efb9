import { afterEach, describe, expect, it } from "vitest";
import { progressEvent, setup, type Harness } from "../../streaming/test-harness";
import { ObservedClient } from "./observed-client";
import { chaosLog } from "./report";
import { percentile } from "./seeded-random";

/**
 * A tab that stops reading must not hold the others back. The real client (over node:http) against
 * the real streaming service: three healthy clients and one that stops reading. Stated bound: while
 * the stalled connection fills up to its limit, every event reaches every healthy client within
 * HEALTHY_BOUND_MS of being published (measured, not waited for); the stalled one is closed as
 * `slow-consumer` and, once it reads again, resumes from its last id with no gap and no duplicate.
 */
const HEALTHY_BOUND_MS = 250;
const P = "slow-project";
const LIMIT = 64 * 1024;

const round = (ms: number) => Math.round(ms * 10) / 10;

let t: Harness | undefined;
let clients: ObservedClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await t?.teardown();
  t = undefined;
});

describe("slow consumer", () => {
  it("is closed as slow-consumer without delaying the others, then resumes with no gap", async () => {
    const harness = await setup({ config: { maxBufferedBytes: LIMIT } });
    t = harness;
    const baseURL = new URL(harness.server.url(P)).origin;
    const head = await harness.service.head(P);
    const open = () => new ObservedClient({ baseURL, projectId: P, initialCursor: head, random: () => 0.5 });
    const healthy = [open(), open(), open()];
    const slow = open();
    clients = [...healthy, slow];
    await Promise.all(clients.map((c) => c.waitUntilReady()));
    const slowConnection = slow.snapshot.connectionId;
    slow.socket?.pause();

    const big = "z".repeat(32 * 1024);
    const published: string[] = [];
    const latencies: number[] = [];
    const slowClosed = () => harness.capture.with("stream disconnected", { connectionId: slowConnection }).length > 0;
    // Kernel socket buffers absorb some megabytes before the server-side limit can trip.
    for (let i = 1; i <= 3_000 && !slowClosed(); i++) {
      const before = performance.now();
      const logged = await harness.service.publish(P, `k${i}`, progressEvent(P, i, big));
      if (!logged) throw new Error(`k${i} was deduplicated`);
      published.push(logged.id);
      const arrived = healthy.map((c) => c.waitFor(() => c.appliedIds.at(-1) === logged.id).then(() => performance.now() - before));
      latencies.push(...(await Promise.all(arrived)));
    }

    const [closed] = harness.capture.with("stream disconnected", { connectionId: slowConnection });
    expect(closed).toMatchObject({ reason: "slow-consumer", projectId: P, connections: 3 });
    const max = Math.max(...latencies);
    chaosLog.info(
      {
        events: published.length,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        maxMs: round(max),
        boundMs: HEALTHY_BOUND_MS,
      },
      "healthy clients' publish-to-applied latency while one client stalled",
    );
    expect(max).toBeLessThan(HEALTHY_BOUND_MS);

    // More events while the stalled client is gone; then it reads again and catches up by itself.
    for (let i = 1; i <= 3; i++) {
      const logged = await harness.service.publish(P, `after${i}`, progressEvent(P, 10_000 + i));
      if (logged) published.push(logged.id);
    }
    slow.socket?.resume();
    const last = published.at(-1);
    for (const c of clients) await c.waitFor((s) => s.status === "ready" && s.cursor === last);

    for (const c of clients) {
      expect(c.appliedIds).toEqual(published);
      expect(new Set(c.wireIds).size).toBe(c.wireIds.length);
    }
    expect(healthy.map((c) => c.sockets)).toEqual([1, 1, 1]);
    expect(slow.sockets).toBe(2);
    expect(slow.resets).toEqual([]);
    expect(harness.capture.with("stream disconnected", { reason: "slow-consumer" })).toHaveLength(1);
  });
});
