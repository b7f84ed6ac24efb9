import { afterEach, describe, expect, it } from "vitest";
import type { LoggedEvent } from "./protocol";
import { progressEvent, setup, type Harness } from "./test-harness";

const P = "proj-a";
let t: Harness | undefined;
afterEach(async () => {
  await t?.teardown();
  t = undefined;
});

describe("StreamingService limits", () => {
  it("closes a client that stops reading as slow-consumer while another keeps receiving every event", async () => {
    t = await setup({ config: { maxBufferedBytes: 256 * 1024 } });
    const slow = await t.openReady(P);
    const healthy = await t.openReady(P);
    slow.client.pause();

    const big = "x".repeat(128 * 1024);
    const published: LoggedEvent[] = [];
    const isClosed = () => t?.capture.with("stream disconnected", { connectionId: slow.connectionId }).length === 1;
    // Kernel socket buffers absorb some megabytes first; publish until the limit trips. Each step
    // waits for the healthy client to receive the event, so only the stalled one accumulates.
    for (let i = 1; i <= 2_000 && !isClosed(); i++) {
      const logged = await t.service.publish(P, `k${i}`, progressEvent(P, i, big));
      if (!logged) throw new Error("deduped");
      published.push(logged);
      await healthy.client.waitForId(logged.id);
    }

    const [line] = t.capture.with("stream disconnected", { connectionId: slow.connectionId });
    expect(line).toMatchObject({ reason: "slow-consumer", level: 40, connections: 1, projectId: P });
    const after = await t.service.publish(P, "after", progressEvent(P, 9_999));
    await healthy.client.waitForId(after?.id ?? "");
    const received = healthy.client.frames.filter((f) => f.event === "step.progress").map((f) => f.id);
    expect(received).toEqual([...published.map((e) => e.id), after?.id]);
    expect(t.service.stats().perProject).toEqual({ [P]: 1 });
  });

  it("paces a long replay on the socket instead of closing a stalled-then-reading client as slow", async () => {
    t = await setup({ config: { maxBufferedBytes: 64 * 1024 } });
    const published: LoggedEvent[] = [];
    const big = "y".repeat(128 * 1024);
    for (let i = 1; i <= 128; i++) {
      const logged = await t.service.publish(P, `k${i}`, progressEvent(P, i, big));
      if (logged) published.push(logged);
    }
    const from = (published[0]?.id ?? "").replace(/:\d+$/, ":0");
    const client = await t.open(P, from);
    client.pause();
    // 16 MB cannot fit in socket buffers: the replay must now be waiting for the client, not closing it.
    await t.capture.waitFor((l) => l.msg === "stream replay waiting for drain");
    client.resume();
    const ready = await client.waitForEvent("ready");
    expect((JSON.parse(ready.data) as { cursor: unknown }).cursor).toBe(published[127]?.id);
    expect(client.sequence()).toEqual([...published.map((e) => `step.progress#${e.id}`), "ready"]);
    expect(t.capture.with("stream disconnected")).toHaveLength(0);
  });

  it("sends ping frames (no id) from the service's timer", async () => {
    t = await setup({ config: { pingIntervalMs: 5 } });
    const { client } = await t.openReady(P);
    await client.waitFor((f) => f.event === "ping" && client.frames.filter((g) => g.event === "ping").length >= 2, "2 pings");
    const pings = client.frames.filter((f) => f.event === "ping");
    for (const ping of pings) {
      expect(ping.id).toBeUndefined();
      expect(typeof (JSON.parse(ping.data) as { t: unknown }).t).toBe("number");
    }
    expect(client.frames[0]?.event).toBe("ready");
  });

  it("closes a connection at max duration with a close frame", async () => {
    t = await setup({ config: { maxDurationMs: 20 } });
    const client = await t.open(P);
    const close = await client.waitForEvent("close");
    await client.ended;
    expect(JSON.parse(close.data)).toEqual({ reason: "max-duration" });
    const line = await t.capture.waitFor((l) => l.msg === "stream disconnected");
    expect(line).toMatchObject({ projectId: P, reason: "max-duration", connections: 0 });
  });

  it("closeProject closes every connection of that project with a close frame, and only those", async () => {
    t = await setup();
    const a1 = await t.openReady(P);
    const a2 = await t.openReady(P);
    const b = await t.openReady("proj-b");
    expect(t.service.closeProject(P, "server-shutdown")).toBe(2);
    for (const { client } of [a1, a2]) {
      expect(JSON.parse((await client.waitForEvent("close")).data)).toEqual({ reason: "server-shutdown" });
      await client.ended;
    }
    expect(t.service.stats()).toEqual({ projects: 1, connections: 1, subscriptions: 0, perProject: { "proj-b": 1 } });
    const logged = await t.service.publish("proj-b", "k1", progressEvent("proj-b", 1));
    await b.client.waitForId(logged?.id ?? "");
    expect(t.service.closeProject("nobody", "server-shutdown")).toBe(0);
  });
});
