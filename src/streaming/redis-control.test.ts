import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { silentLogger as appLogger } from "../lib/logger";
import { createRedisConnection, projectKeys, quitRedis } from "./redis-client";
import { RedisStreamControl } from "./redis-control";
import { RedisEventLog } from "./redis-log";
import { RedisPresence } from "./redis-presence";
import { StreamingService } from "./service";
import { CapturedLog, headerUserAccess, progressEvent, setup, type Harness } from "./test-harness";
import { TEST_REDIS_URL as REDIS_URL } from "../test/services";
import type { LoggedEvent } from "./protocol";

/** Every project id used, so its keys can be deleted from the shared Redis afterwards. */
const used: string[] = [];
const project = (): string => {
  const id = `test-${process.pid}-${randomUUID()}`;
  used.push(id);
  return id;
};
const USER = "user-1";

/** One simulated app instance's Redis-backed options: its own log connection, presence and control. */
function instance(name: string, control: { timeoutMs?: number; logger?: CapturedLog["logger"] } = {}) {
  const log = new RedisEventLog({ url: REDIS_URL, processName: `${name}-${randomUUID()}` });
  return {
    log,
    presence: new RedisPresence({ redis: log.redis }),
    control: new RedisStreamControl({ url: REDIS_URL, redis: log.redis, processName: `${name}-${randomUUID()}`, ...control }),
  };
}

describe("subscriptions across two instances (Redis control + presence)", () => {
  let a: Harness | undefined;
  let b: StreamingService | undefined;
  const bLog = new CapturedLog();
  const aControlLog = new CapturedLog();

  afterEach(async () => {
    await a?.teardown();
    await b?.shutdown();
    a = undefined;
    b = undefined;
  });

  async function twoInstances(bControl: { timeoutMs?: number } = {}): Promise<{ a: Harness; b: StreamingService }> {
    a = await setup(instance("instance-a", { logger: aControlLog.logger }));
    b = new StreamingService({ ...instance("instance-b", bControl), logger: bLog.logger, multiplex: headerUserAccess() });
    return { a, b };
  }

  it("a subscribe handled by B reaches A's connection: replay, ready, live events from either; then an unsubscribe by B stops them", async () => {
    const { a: holder, b: other } = await twoInstances();
    const P = project();
    const Q = project();
    const p1 = await other.publish(P, "p1", progressEvent(P, 1));
    const p2 = await other.publish(P, "p2", progressEvent(P, 2));
    const { client, connectionId } = await holder.openConnected(USER);

    const answer = await other.subscription({
      op: "subscribe",
      connectionId,
      userId: USER,
      projectId: P,
      cursor: p1?.id ?? "",
      subscriptionId: "s1",
    });
    expect(answer).toEqual({ ok: true, op: "subscribe", cursor: p2?.id, reset: false, replayed: 1 });
    // Answered after ready was written: the frames are on their way in this order.
    await client.waitFor((f) => f.event === "ready", "ready");
    expect(client.frames.map((f) => f.event)).toEqual(["connected", "step.progress", "ready"]);
    // The client's name for its subscribe crossed the control channel too.
    expect(JSON.parse(client.frames[2]?.data ?? "")).toEqual({ projectId: P, cursor: p2?.id, subscriptionId: "s1" });
    // Presence: a send handled by B finds the subscription.
    expect(await other.isConnected(P, connectionId)).toBe(true);
    expect(await other.isConnected(Q, connectionId)).toBe(false);

    const p3 = (await other.publish(P, "p3", progressEvent(P, 3))) as LoggedEvent;
    const p4 = (await holder.service.publish(P, "p4", progressEvent(P, 4))) as LoggedEvent;
    await client.waitForId(p4.id);
    expect(client.frames.filter((f) => f.event === "step.progress").map((f) => f.id)).toEqual([p2?.id, p3.id, p4.id]);

    expect(await other.subscription({ op: "unsubscribe", connectionId, userId: USER, projectId: P })).toEqual({
      ok: true,
      op: "unsubscribe",
      subscribed: true,
    });
    // A's presence removal went out on its connection before its answer did.
    expect(await other.isConnected(P, connectionId)).toBe(false);
    expect(holder.service.stats()).toMatchObject({ connections: 1, subscriptions: 0 });
  });

  it("B answers PRECONDITION_FAILED for a connection no instance holds, before it opens and after it closed", async () => {
    const { a: holder, b: other } = await twoInstances();
    const P = project();
    const unknown = randomUUID();
    expect(await other.subscription({ op: "subscribe", connectionId: unknown, userId: USER, projectId: P })).toMatchObject({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: `Stream connection ${unknown} is not open: open the stream again and subscribe with the id of its connected event.`,
    });
    const { client, connectionId } = await holder.openConnected(USER);
    expect(await other.subscription({ op: "subscribe", connectionId, userId: USER, projectId: P })).toMatchObject({ ok: true });
    client.close();
    await holder.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === connectionId);
    expect(await other.subscription({ op: "subscribe", connectionId, userId: USER, projectId: P })).toMatchObject({
      ok: false,
      code: "PRECONDITION_FAILED",
    });
    expect(await other.isConnected(P, connectionId)).toBe(false);
  });

  it("B cannot subscribe another user onto A's connection (PRECONDITION_FAILED from the holder)", async () => {
    const { a: holder, b: other } = await twoInstances();
    const P = project();
    const { connectionId } = await holder.openConnected(USER);
    expect(await other.subscription({ op: "subscribe", connectionId, userId: "intruder", projectId: P })).toEqual({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: "This stream connection belongs to another user.",
    });
    expect(holder.capture.with("stream subscription denied", { connectionId, userId: "intruder" })).toHaveLength(1);
    expect(holder.service.stats().subscriptions).toBe(0);
  });

  it("a holder that does not answer in time is SERVICE_UNAVAILABLE; invalid requests are ignored and logged", async () => {
    const { a: holder, b: other } = await twoInstances({ timeoutMs: 200 });
    const silent = createRedisConnection({
      url: REDIS_URL,
      name: "genstream-test:silent-holder",
      logger: appLogger,
      commandTimeoutMs: 2_000,
    });
    try {
      const connectionId = randomUUID();
      await silent.subscribe(`gs:control:conn:${connectionId}`);
      expect(await other.subscription({ op: "subscribe", connectionId, userId: USER, projectId: project() })).toEqual({
        ok: false,
        code: "SERVICE_UNAVAILABLE",
        message: "Live progress is temporarily unavailable; try again in a moment.",
      });
      expect(bLog.with("stream control unavailable", { connectionId })).toHaveLength(1);
    } finally {
      await quitRedis(silent);
    }

    const { connectionId } = await holder.openConnected(USER);
    const publisher = createRedisConnection({ url: REDIS_URL, name: "genstream-test:garbage", logger: appLogger, commandTimeoutMs: 2_000 });
    try {
      expect(await publisher.publish(`gs:control:conn:${connectionId}`, "not json")).toBe(1);
      await aControlLog.waitFor((l) => l.msg === "stream control request invalid", "invalid request logged");
    } finally {
      await quitRedis(publisher);
    }
    expect(await other.subscription({ op: "subscribe", connectionId, userId: USER, projectId: project() })).toMatchObject({ ok: true });
  });
});

// Unique ids keep runs apart; deleting them afterwards keeps the shared Redis from filling up.
afterAll(async () => {
  if (used.length === 0) return;
  const redis = createRedisConnection({ url: REDIS_URL, name: "genstream-test:cleanup", logger: appLogger, commandTimeoutMs: 2_000 });
  await redis.del(...used.flatMap((p) => [...projectKeys(p).list, projectKeys(p).conns]));
  await quitRedis(redis);
});
