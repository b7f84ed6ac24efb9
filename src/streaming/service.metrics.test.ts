import { afterEach, describe, expect, it } from "vitest";
import pino from "pino";
import { createMetrics } from "../lib/metrics";
import { MemoryEventLog } from "./memory-log";
import { StreamingService } from "./service";
import { allowAll, progressEvent, startServer, StreamClient, type TestServer } from "./test-harness";

const metrics = createMetrics();

async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

describe("streaming metrics", () => {
  let server: TestServer | undefined;
  let service: StreamingService | undefined;
  afterEach(async () => {
    await server?.close();
    await service?.shutdown();
  });

  it("counts connections, published and duplicate events, deliveries, replays, resets and disconnects", async () => {
    service = new StreamingService({ log: new MemoryEventLog(), logger: pino({ level: "silent" }), authorize: allowAll, metrics });
    server = await startServer(service);
    const before = {
      connections: await value("genstream_stream_connections"),
      published: await value("genstream_events_published_total"),
      duplicate: await value("genstream_events_duplicate_total"),
      delivered: await value("genstream_events_delivered_total"),
      replayed: await value("genstream_events_replayed_total"),
      resets: await value("genstream_stream_resets_total", { reason: "malformed-cursor" }),
      reconnects: await value("genstream_stream_reconnects_total"),
    };
    const a = await StreamClient.open(server.url("m1"));
    const b = await StreamClient.open(server.url("m1"));
    await Promise.all([a.waitForEvent("ready"), b.waitForEvent("ready")]);
    expect(await value("genstream_stream_connections")).toBe(before.connections + 2);

    const first = await service.publish("m1", "k1", progressEvent("m1", 1));
    await service.publish("m1", "k1", progressEvent("m1", 1));
    await Promise.all([a.waitForId(first!.id), b.waitForId(first!.id)]);
    expect(await value("genstream_events_published_total")).toBe(before.published + 1);
    expect(await value("genstream_events_duplicate_total")).toBe(before.duplicate + 1);
    expect(await value("genstream_events_delivered_total")).toBe(before.delivered + 2);

    // A resume from the start of this log replays the event; a malformed cursor gets a reset.
    const head = await service.head("m1");
    const resumed = await StreamClient.open(server.url("m1", `${head.split(":")[0]}:0`));
    await resumed.waitForEvent("ready");
    const malformed = await StreamClient.open(server.url("m1", "nonsense"));
    await malformed.waitForEvent("reset");
    expect(await value("genstream_events_replayed_total")).toBe(before.replayed + 1);
    expect(await value("genstream_stream_reconnects_total")).toBe(before.reconnects + 2);
    expect(await value("genstream_stream_resets_total", { reason: "malformed-cursor" })).toBe(before.resets + 1);

    for (const c of [a, b, resumed, malformed]) c.close();
    await Promise.all([a.ended, b.ended, resumed.ended, malformed.ended]);
    await expect.poll(() => value("genstream_stream_connections")).toBe(before.connections);
  });
});
