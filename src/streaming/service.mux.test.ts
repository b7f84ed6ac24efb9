import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "../lib/metrics";
import { MemoryEventLog } from "./memory-log";
import {
  closeFrameSchema,
  connectedFrameSchema,
  errorFrameSchema,
  muxEventFrameSchema,
  subscriptionReadyFrameSchema,
  subscriptionResetFrameSchema,
  type LoggedEvent,
} from "./protocol";
import { headerUserAccess, progressEvent, setup, StreamClient, type Harness } from "./test-harness";
import type { SseFrame } from "./sse-parser";
import { StreamingService } from "./service";
import type { ReadResult, StreamControl, SubscriptionOutcome, SubscriptionRequest } from "./types";

const A = "proj-a";
const B = "proj-b";
const C = "proj-c";
const USER = "user-1";
let t: Harness | undefined;
afterEach(async () => {
  await t?.teardown();
  t = undefined;
});

function harness(): Harness {
  if (!t) throw new Error("no harness");
  return t;
}

/** A frame of the multiplexed stream as `event projectId id`, validated against its protocol schema. */
function describeFrame(frame: SseFrame): string {
  const data: unknown = JSON.parse(frame.data);
  switch (frame.event) {
    case "connected":
      connectedFrameSchema.parse(data);
      return "connected";
    case "ready": {
      const ready = subscriptionReadyFrameSchema.parse(data);
      return `ready ${ready.projectId} ${ready.cursor}${ready.subscriptionId ? ` ${ready.subscriptionId}` : ""}`;
    }
    case "reset": {
      const reset = subscriptionResetFrameSchema.parse(data);
      return `reset ${reset.projectId} ${reset.reason}${reset.subscriptionId ? ` ${reset.subscriptionId}` : ""}`;
    }
    case "close":
      return `close ${closeFrameSchema.parse(data).reason}`;
    case "error":
      return `error ${errorFrameSchema.parse(data).code}`;
    default: {
      const logged = muxEventFrameSchema.parse(data);
      expect(frame.event).toBe(logged.event.type);
      expect(frame.id).toBe(logged.id);
      return `${logged.event.type} ${logged.event.projectId} ${logged.id}`;
    }
  }
}

function sequence(client: StreamClient): string[] {
  return client.frames.filter((f) => f.event !== "ping").map(describeFrame);
}

function eventLine(logged: LoggedEvent): string {
  return `${logged.event.type} ${logged.event.projectId} ${logged.id}`;
}

async function publish(projectId: string, n: number): Promise<LoggedEvent> {
  const logged = await harness().service.publish(projectId, `${projectId}-k${n}`, progressEvent(projectId, n));
  if (!logged) throw new Error("deduped");
  return logged;
}

function subscribe(
  connectionId: string,
  projectId: string,
  cursor?: string,
  userId = USER,
  subscriptionId?: string,
): Promise<SubscriptionOutcome> {
  const request: SubscriptionRequest = {
    op: "subscribe",
    connectionId,
    userId,
    projectId,
    ...(cursor ? { cursor } : {}),
    ...(subscriptionId ? { subscriptionId } : {}),
  };
  return harness().service.subscription(request);
}

function unsubscribe(connectionId: string, projectId: string, userId = USER): Promise<SubscriptionOutcome> {
  return harness().service.subscription({ op: "unsubscribe", connectionId, userId, projectId });
}

/** Waits until the client has the event: the handshake that proves everything before it was written. */
function received(client: StreamClient, logged: LoggedEvent): Promise<SseFrame> {
  return client.waitFor(
    (f) => f.data.includes(`"id":"${logged.id}"`) && f.data.includes(`"projectId":"${logged.event.projectId}"`),
    eventLine(logged),
  );
}

function readyOf(client: StreamClient, projectId: string): Promise<SseFrame> {
  return client.waitFor((f) => f.event === "ready" && f.data.includes(`"projectId":"${projectId}"`), `ready ${projectId}`);
}

describe("the multiplexed stream", () => {
  it("starts with connected {connectionId}, logged, and counted as a connection", async () => {
    t = await setup();
    const { client, connectionId } = await t.openConnected(USER);
    expect(sequence(client)).toEqual(["connected"]);
    expect(client.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(client.res.headers["cache-control"]).toBe("no-cache, no-transform");
    expect(t.capture.with("stream connected", { connectionId, userId: USER, multiplexed: true })).toHaveLength(1);
    expect(t.service.stats()).toEqual({ projects: 0, connections: 1, subscriptions: 0, perProject: {} });
  });

  it("replays each subscription after its cursor, confirms it with ready, then carries live events of every project in order", async () => {
    t = await setup();
    const a1 = await publish(A, 1);
    const a2 = await publish(A, 2);
    const b1 = await publish(B, 1);
    const { client, connectionId } = await t.openConnected(USER);

    expect(await subscribe(connectionId, A, a1.id)).toEqual({ ok: true, op: "subscribe", cursor: a2.id, reset: false, replayed: 1 });
    expect(await subscribe(connectionId, B)).toEqual({ ok: true, op: "subscribe", cursor: b1.id, reset: false, replayed: 0 });
    const c0 = await t.service.head(C);
    expect(await subscribe(connectionId, C, c0)).toMatchObject({ ok: true, cursor: c0, replayed: 0 });
    const live = [await publish(B, 2), await publish(A, 3), await publish(C, 1), await publish(A, 4)];
    await received(client, live[3] as LoggedEvent);

    expect(sequence(client)).toEqual([
      "connected",
      eventLine(a2),
      `ready ${A} ${a2.id}`,
      `ready ${B} ${b1.id}`,
      `ready ${C} ${c0}`,
      ...live.map(eventLine),
    ]);
    expect(t.service.stats()).toEqual({ projects: 3, connections: 1, subscriptions: 3, perProject: { [A]: 1, [B]: 1, [C]: 1 } });
    for (const projectId of [A, B, C]) {
      expect(t.capture.with("stream subscribed", { projectId, connectionId })).toHaveLength(1);
      expect(await t.service.isConnected(projectId, connectionId)).toBe(true);
    }
    expect(await t.service.isConnected("proj-d", connectionId)).toBe(false);
  });

  it("queues what is published during a subscription's replay and sends it after ready, once", async () => {
    const log = new MemoryEventLog();
    const read = log.readAfter.bind(log);
    let open = (): void => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    log.readAfter = async (projectId, cursor): Promise<ReadResult> => {
      const result = await read(projectId, cursor);
      await gate;
      return result;
    };
    t = await setup({ log });
    const a1 = await publish(A, 1);
    const { client, connectionId } = await t.openConnected(USER);
    const subscribing = subscribe(connectionId, A, a1.id.replace(/:\d+$/, ":0"));
    await t.capture.waitFor((l) => l.msg === "stream subscribed" && l.connectionId === connectionId);
    const during = await publish(A, 2);
    // Registered, not yet confirmed: a send cannot rely on it until ready.
    expect(await t.service.isConnected(A, connectionId)).toBe(false);
    open();
    expect(await subscribing).toMatchObject({ ok: true, cursor: a1.id, replayed: 1 });
    await received(client, during);
    expect(sequence(client)).toEqual(["connected", eventLine(a1), `ready ${A} ${a1.id}`, eventLine(during)]);
    expect(await t.service.isConnected(A, connectionId)).toBe(true);
  });

  it("unsubscribe stops that project's events only; it is idempotent, logged, and the registry forgets it", async () => {
    t = await setup();
    const { client, connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A);
    await subscribe(connectionId, B);
    const a1 = await publish(A, 1);
    await received(client, a1);

    expect(await unsubscribe(connectionId, A)).toEqual({ ok: true, op: "unsubscribe", subscribed: true });
    expect(await unsubscribe(connectionId, A)).toEqual({ ok: true, op: "unsubscribe", subscribed: false });
    const a2 = await publish(A, 2);
    const b1 = await publish(B, 1);
    // B's event was published after A's: once it arrived, A's would have too.
    await received(client, b1);
    expect(sequence(client)).toEqual([
      "connected",
      `ready ${A} ${a1.id.replace(/:\d+$/, ":0")}`,
      `ready ${B} ${b1.id.replace(/:\d+$/, ":0")}`,
      eventLine(a1),
      eventLine(b1),
    ]);
    expect(sequence(client)).not.toContain(eventLine(a2));
    expect(t.capture.with("stream unsubscribed", { projectId: A, connectionId, reason: "unsubscribed", eventsSent: 1 })).toHaveLength(1);
    expect(await t.service.isConnected(A, connectionId)).toBe(false);
    expect(t.service.stats()).toEqual({ projects: 1, connections: 1, subscriptions: 1, perProject: { [B]: 1 } });
  });

  it("a subscribe again replaces the subscription: replay from the new cursor, one ready each (naming its own subscribe), nothing twice after it", async () => {
    t = await setup();
    const a1 = await publish(A, 1);
    const a2 = await publish(A, 2);
    const { client, connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A, a2.id, USER, "s1");
    expect(await subscribe(connectionId, A, a1.id, USER, "s2")).toMatchObject({ ok: true, cursor: a2.id, replayed: 1 });
    const a3 = await publish(A, 3);
    await received(client, a3);
    expect(sequence(client)).toEqual(["connected", `ready ${A} ${a2.id} s1`, eventLine(a2), `ready ${A} ${a2.id} s2`, eventLine(a3)]);
    expect(t.capture.with("stream unsubscribed", { projectId: A, connectionId, reason: "resubscribed" })).toHaveLength(1);
    expect(t.service.stats()).toMatchObject({ subscriptions: 1, perProject: { [A]: 1 } });
  });

  it("a cursor the log cannot resume gets reset {projectId} with the head, then ready, then live", async () => {
    t = await setup({ log: new MemoryEventLog({ retentionEvents: 2 }) });
    const published = [await publish(A, 1), await publish(A, 2), await publish(A, 3), await publish(A, 4)];
    const head = (published[3] as LoggedEvent).id;
    const { client, connectionId } = await t.openConnected(USER);
    expect(await subscribe(connectionId, A, (published[0] as LoggedEvent).id, USER, "s7")).toEqual({
      ok: true,
      op: "subscribe",
      cursor: head,
      reset: true,
      replayed: 0,
    });
    expect(await subscribe(connectionId, B, "otherepoch:3")).toMatchObject({ ok: true, reset: true });
    const a5 = await publish(A, 5);
    await received(client, a5);
    expect(sequence(client)).toEqual([
      "connected",
      `reset ${A} retention s7`,
      `ready ${A} ${head} s7`,
      `reset ${B} unknown-log`,
      `ready ${B} ${await t.service.head(B)}`,
      eventLine(a5),
    ]);
    const reset = subscriptionResetFrameSchema.parse(JSON.parse((await client.waitForEvent("reset")).data));
    expect(reset).toEqual({ projectId: A, reason: "retention", cursor: head, subscriptionId: "s7" });
  });

  it("a new connection re-subscribing with each project's last id resumes exactly: no gap, no duplicate", async () => {
    t = await setup();
    const first = await t.openConnected(USER);
    await subscribe(first.connectionId, A);
    await subscribe(first.connectionId, B);
    const before = [await publish(A, 1), await publish(B, 1), await publish(A, 2)];
    await received(first.client, before[2] as LoggedEvent);
    first.client.close();
    await t.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === first.connectionId);
    expect(t.capture.with("stream unsubscribed", { connectionId: first.connectionId, reason: "client-closed" })).toHaveLength(2);

    const missed = [await publish(B, 2), await publish(A, 3), await publish(B, 3)];
    const lastId = (projectId: string): string => {
      const mine = first.client.frames.filter(
        (f) => f.event === "step.progress" && muxEventFrameSchema.parse(JSON.parse(f.data)).event.projectId === projectId,
      );
      return mine.at(-1)?.id ?? "";
    };
    const second = await t.openConnected(USER);
    expect(second.connectionId).not.toBe(first.connectionId);
    await subscribe(second.connectionId, A, lastId(A));
    await subscribe(second.connectionId, B, lastId(B));
    const after = await publish(A, 4);
    await received(second.client, after);

    const applied = [...first.client.frames, ...second.client.frames]
      .filter((f) => f.event === "step.progress")
      .map((f) => eventLine(muxEventFrameSchema.parse(JSON.parse(f.data))));
    const everything = [...before, ...missed, after];
    for (const projectId of [A, B]) {
      expect(applied.filter((line) => line.includes(` ${projectId} `))).toEqual(
        everything.filter((e) => e.event.projectId === projectId).map(eventLine),
      );
    }
  });

  it("ignores Last-Event-ID: a reconnect carries no subscription until it subscribes", async () => {
    t = await setup();
    const a1 = await publish(A, 1);
    const client = await StreamClient.open(t.server.muxUrl(), { "x-user": USER, "last-event-id": a1.id });
    try {
      const { connectionId } = connectedFrameSchema.parse(JSON.parse((await client.waitForEvent("connected")).data));
      const a2 = await publish(A, 2);
      await subscribe(connectionId, B);
      const b1 = await publish(B, 1);
      await received(client, b1);
      expect(sequence(client)).toEqual(["connected", `ready ${B} ${b1.id.replace(/:\d+$/, ":0")}`, eventLine(b1)]);
      expect(sequence(client)).not.toContain(eventLine(a2));
    } finally {
      client.close();
    }
  });
});

describe("the multiplexed stream's refusals", () => {
  it("without a user: an UNAUTHORIZED error frame, then the response ends (200, never 500)", async () => {
    t = await setup();
    const client = await t.openMux();
    await client.ended;
    expect(client.status).toBe(200);
    expect(sequence(client)).toEqual(["error UNAUTHORIZED"]);
    expect(t.capture.with("stream rejected", { multiplexed: true, code: "UNAUTHORIZED" })).toHaveLength(1);
    expect(t.service.stats().connections).toBe(0);
  });

  it("without multiplex access configured every one is refused (fail closed)", async () => {
    t = await setup({ multiplex: undefined });
    const client = await t.openMux(USER);
    await client.ended;
    expect(sequence(client)).toEqual(["error INTERNAL"]);
  });

  it("a throwing authenticator becomes an INTERNAL error frame, logged", async () => {
    t = await setup({
      multiplex: {
        authenticate: async () => {
          throw new Error("db down");
        },
        takeSubscriptionSlot: () => ({ ok: false, message: "unused" }),
      },
    });
    const client = await t.openMux(USER);
    await client.ended;
    expect(sequence(client)).toEqual(["error INTERNAL"]);
    expect(await t.capture.waitFor((l) => l.msg === "stream failed")).toMatchObject({ multiplexed: true, level: 50 });
  });

  it("a control channel that cannot listen for the connection (Redis down) refuses it with UNAVAILABLE, registering nothing", async () => {
    const control: StreamControl = {
      hold: async () => {
        throw new Error("redis down");
      },
      send: async () => null,
      close: async () => {},
    };
    t = await setup({ control });
    const client = await t.openMux(USER);
    const frame = errorFrameSchema.parse(JSON.parse((await client.waitForEvent("error")).data));
    await client.ended;
    expect(frame).toEqual({ code: "UNAVAILABLE", message: "Live progress is temporarily unavailable; the stream will reconnect." });
    expect(sequence(client)).toEqual(["error UNAVAILABLE"]);
    expect(t.capture.with("stream disconnected", { multiplexed: true, reason: "error" })).toHaveLength(1);
    expect(t.service.stats()).toEqual({ projects: 0, connections: 0, subscriptions: 0, perProject: {} });
  });

  it("without a control channel, a connection is reachable on its own instance only: another service answers PRECONDITION_FAILED", async () => {
    t = await setup();
    const { connectionId } = await t.openConnected(USER);
    const elsewhere = new StreamingService({ log: new MemoryEventLog(), multiplex: headerUserAccess() });
    try {
      expect(await elsewhere.subscription({ op: "subscribe", connectionId, userId: USER, projectId: A })).toMatchObject({
        ok: false,
        code: "PRECONDITION_FAILED",
      });
    } finally {
      await elsewhere.shutdown();
    }
  });

  it("someone else's connection cannot be subscribed or unsubscribed (PRECONDITION_FAILED), and nothing is registered", async () => {
    t = await setup();
    const { client, connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A);
    await readyOf(client, A);
    expect(await subscribe(connectionId, B, undefined, "intruder")).toEqual({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: "This stream connection belongs to another user.",
    });
    expect(await unsubscribe(connectionId, A, "intruder")).toMatchObject({ ok: false, code: "PRECONDITION_FAILED" });
    expect(t.capture.with("stream subscription denied", { connectionId, userId: "intruder", projectId: B })).toHaveLength(1);
    expect(t.service.stats()).toMatchObject({ subscriptions: 1, perProject: { [A]: 1 } });
    expect(sequence(client)).toEqual(["connected", `ready ${A} ${await t.service.head(A)}`]);
  });

  it("an unknown or closed connection is PRECONDITION_FAILED with a message that says what to do", async () => {
    t = await setup();
    const unknown = crypto.randomUUID();
    const answer = await subscribe(unknown, A);
    expect(answer).toEqual({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: `Stream connection ${unknown} is not open: open the stream again and subscribe with the id of its connected event.`,
    });
    const { client, connectionId } = await t.openConnected(USER);
    client.close();
    await t.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === connectionId);
    expect(await subscribe(connectionId, A)).toMatchObject({ ok: false, code: "PRECONDITION_FAILED" });
    expect(await unsubscribe(connectionId, A)).toMatchObject({ ok: false, code: "PRECONDITION_FAILED" });
    expect(t.service.stats()).toEqual({ projects: 0, connections: 0, subscriptions: 0, perProject: {} });
  });

  it("a subscription over the user's budget is TOO_MANY_REQUESTS with the access's message; ending one frees it", async () => {
    const access = headerUserAccess(2);
    t = await setup({ multiplex: access });
    const { connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A);
    await subscribe(connectionId, B);
    expect(await subscribe(connectionId, C)).toEqual({ ok: false, code: "TOO_MANY_REQUESTS", message: "At most 2 subscriptions" });
    expect(t.capture.with("stream limit reached", { connectionId, projectId: C })).toHaveLength(1);
    await unsubscribe(connectionId, A);
    expect(await subscribe(connectionId, C)).toMatchObject({ ok: true });
    // A resubscribe gives its slot back before it takes one.
    expect(await subscribe(connectionId, C)).toMatchObject({ ok: true });
    expect(access.held.get(USER)).toBe(2);
  });

  it("a log failure during a subscribe is SERVICE_UNAVAILABLE; the subscription is gone and the connection carries on", async () => {
    const log = new MemoryEventLog();
    const read = log.readAfter.bind(log);
    let failing = true;
    log.readAfter = async (projectId, cursor): Promise<ReadResult> => {
      if (failing && projectId === A) throw new Error("log unavailable");
      return read(projectId, cursor);
    };
    const access = headerUserAccess();
    t = await setup({ log, multiplex: access });
    const { client, connectionId } = await t.openConnected(USER);
    expect(await subscribe(connectionId, A)).toEqual({
      ok: false,
      code: "SERVICE_UNAVAILABLE",
      message: "The project's progress could not be read; try again in a moment.",
    });
    expect(t.capture.with("stream unsubscribed", { projectId: A, connectionId, reason: "error" })).toHaveLength(1);
    expect(access.held.get(USER)).toBe(0);
    failing = false;
    await subscribe(connectionId, A);
    const a1 = await publish(A, 1);
    await received(client, a1);
    expect(t.service.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
  });

  it("a subscribe overtaken by an unsubscribe during its replay is CONFLICT, and leaves nothing registered", async () => {
    const log = new MemoryEventLog();
    const read = log.readAfter.bind(log);
    let open = (): void => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    log.readAfter = async (projectId, cursor): Promise<ReadResult> => {
      const result = await read(projectId, cursor);
      await gate;
      return result;
    };
    t = await setup({ log });
    const { connectionId } = await t.openConnected(USER);
    const subscribing = subscribe(connectionId, A);
    await t.capture.waitFor((l) => l.msg === "stream subscribed");
    expect(await unsubscribe(connectionId, A)).toMatchObject({ ok: true, subscribed: true });
    open();
    expect(await subscribing).toMatchObject({ ok: false, code: "CONFLICT" });
    expect(t.service.stats()).toMatchObject({ subscriptions: 0, perProject: {} });
  });
});

describe("the multiplexed stream's limits", () => {
  it("closes the whole connection as slow-consumer when it stops reading; its subscriptions end, other streams carry on", async () => {
    t = await setup({ config: { maxBufferedBytes: 256 * 1024 } });
    const slow = await t.openConnected(USER);
    await subscribe(slow.connectionId, A);
    await subscribe(slow.connectionId, B);
    const healthy = await t.openReady(A);
    slow.client.pause();
    const big = "x".repeat(128 * 1024);
    const isClosed = () => harness().capture.with("stream disconnected", { connectionId: slow.connectionId }).length === 1;
    for (let i = 1; i <= 2_000 && !isClosed(); i++) {
      const logged = await harness().service.publish(A, `k${i}`, progressEvent(A, i, big));
      if (!logged) throw new Error("deduped");
      await healthy.client.waitForId(logged.id);
    }
    const [line] = t.capture.with("stream disconnected", { connectionId: slow.connectionId });
    expect(line).toMatchObject({ reason: "slow-consumer", level: 40, multiplexed: true, subscriptions: 2, userId: USER });
    expect(t.capture.with("stream unsubscribed", { connectionId: slow.connectionId, reason: "slow-consumer" })).toHaveLength(2);
    expect(t.service.stats()).toEqual({ projects: 1, connections: 1, subscriptions: 0, perProject: { [A]: 1 } });
    // Dropped without a close frame (it could never arrive): the client sees the socket end once it reads again.
    slow.client.resume();
    await slow.client.ended;
    expect(sequence(slow.client)).not.toContain("close slow-consumer");
  });

  it("gets one ping per tick for the connection, not one per subscription", async () => {
    t = await setup({ config: { pingIntervalMs: 5 } });
    const { client, connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A);
    await subscribe(connectionId, B);
    const pings = () => client.frames.filter((f) => f.event === "ping");
    await client.waitFor(() => pings().length >= 4, "4 pings");
    const times = pings().map((f) => (JSON.parse(f.data) as { t: number }).t);
    // Each tick serialises one ping with its own time: one written per subscription would repeat it.
    expect(new Set(times).size).toBe(times.length);
    expect(client.frames.slice(0, 3).map((f) => f.event)).toEqual(["connected", "ready", "ready"]);
  });

  it("closes at max duration with a close frame, ending its subscriptions", async () => {
    t = await setup({ config: { maxDurationMs: 50 } });
    const { client, connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A);
    await client.ended;
    expect(sequence(client).at(-1)).toBe("close max-duration");
    expect(await t.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === connectionId)).toMatchObject({
      reason: "max-duration",
      multiplexed: true,
    });
    expect(t.service.stats()).toEqual({ projects: 0, connections: 0, subscriptions: 0, perProject: {} });
  });

  it("closeProject closes every multiplexed connection subscribed to the project, whole, and no other", async () => {
    t = await setup();
    const watching = await t.openConnected(USER);
    await subscribe(watching.connectionId, A);
    await subscribe(watching.connectionId, B);
    const elsewhere = await t.openConnected(USER);
    await subscribe(elsewhere.connectionId, B);
    expect(t.service.closeProject(A, "server-shutdown")).toBe(1);
    await watching.client.ended;
    expect(sequence(watching.client).at(-1)).toBe("close server-shutdown");
    expect(t.service.stats()).toEqual({ projects: 1, connections: 1, subscriptions: 1, perProject: { [B]: 1 } });
    const b1 = await publish(B, 1);
    await received(elsewhere.client, b1);
  });

  it("shutdown closes multiplexed connections with server-shutdown and refuses new ones (UNAVAILABLE)", async () => {
    t = await setup();
    const { client, connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A);
    await t.service.shutdown();
    await client.ended;
    expect(sequence(client).at(-1)).toBe("close server-shutdown");
    const late = await t.openMux(USER);
    await late.ended;
    expect(sequence(late)).toEqual(["error UNAVAILABLE"]);
  });

  it("counts connections and subscriptions in the metrics", async () => {
    const metrics = createMetrics();
    t = await setup({ metrics });
    const value = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
    const { client, connectionId } = await t.openConnected(USER);
    await subscribe(connectionId, A);
    await subscribe(connectionId, B, "otherepoch:1");
    expect(await value("genstream_stream_connections")).toBe(1);
    expect(await value("genstream_stream_subscriptions")).toBe(2);
    expect(await value("genstream_stream_reconnects_total")).toBe(1);
    client.close();
    await t.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === connectionId);
    expect(await value("genstream_stream_connections")).toBe(0);
    expect(await value("genstream_stream_subscriptions")).toBe(0);
  });
});
