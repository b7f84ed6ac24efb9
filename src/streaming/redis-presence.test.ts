import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { silentLogger as appLogger } from "../lib/logger";
import { EventLogUnavailableError, createRedisConnection, projectKeys, quitRedis } from "./redis-client";
import { RedisEventLog } from "./redis-log";
import { RedisPresence } from "./redis-presence";
import { StreamingService } from "./service";
import { progressEvent, setup, type Harness } from "./test-harness";
import { freePort } from "../test/ports";

import { TEST_REDIS_URL as REDIS_URL } from "../test/services";
/** Every project id used, so its keys can be deleted from the shared Redis afterwards. */
const used: string[] = [];
const project = (): string => {
  const id = `test-${process.pid}-${randomUUID()}`;
  used.push(id);
  return id;
};
const TTL = 30_000;

describe("RedisPresence", () => {
  const url = REDIS_URL;
  const connections: Redis[] = [];
  /** Untracks left over at the end of a test, so no refresh timer outlives it. */
  const leftovers: (() => void)[] = [];
  /** One presence per simulated app instance, each with its own connection and clock. */
  const instance = (now: () => number = Date.now): RedisPresence => {
    const redis = createRedisConnection({
      url,
      name: `genstream-test:presence:${process.pid}`,
      logger: appLogger,
      commandTimeoutMs: 2_000,
    });
    connections.push(redis);
    return new RedisPresence({ redis, ttlMs: TTL, now });
  };

  afterEach(async () => {
    for (const untrack of leftovers.splice(0)) untrack();
    await Promise.all(connections.splice(0).map(quitRedis));
  });

  it("answers for connections tracked by another instance, until they are untracked", async () => {
    const [a, b] = [instance(), instance()];
    const P = project();
    const untrack = a.track(P, "conn-1");
    // Same connection as the ZADD, so it is answered after it: a barrier, not a wait.
    expect(await a.isConnected(P, "conn-1")).toBe(true);
    expect(await b.isConnected(P, "conn-1")).toBe(true);
    expect(await b.isConnected(P, "conn-2")).toBe(false);
    expect(await b.isConnected(project(), "conn-1")).toBe(false);
    untrack();
    expect(await a.isConnected(P, "conn-1")).toBe(false);
    expect(await b.isConnected(P, "conn-1")).toBe(false);
  });

  it("lets a crashed instance's entries expire, and sweeps them on the next write", async () => {
    let later = Date.now();
    const crashed = instance();
    const survivor = instance(() => later);
    const P = project();
    leftovers.push(crashed.track(P, "ghost"));
    expect(await crashed.isConnected(P, "ghost")).toBe(true);
    await quitRedis(connections[0] as Redis); // the instance dies without untracking
    expect(await survivor.isConnected(P, "ghost")).toBe(true);
    // Past the ghost's expiry by the survivor's clock: measured from now, which is after the crashed
    // instance stamped it (a clock taken at the start of the test can be behind that stamp).
    later = Date.now() + TTL + 1;
    expect(await survivor.isConnected(P, "ghost")).toBe(false);
    leftovers.push(survivor.track(P, "alive"));
    expect(await survivor.isConnected(P, "alive")).toBe(true);
    const redis = connections[1] as Redis;
    expect(await redis.zrange(`gs:{${P}}:conns`, 0, -1)).toEqual(["alive"]);
    expect(await redis.pttl(`gs:{${P}}:conns`)).toBeGreaterThan(0);
  });

  it("refreshing keeps a live connection present past its first expiry", async () => {
    let now = Date.now();
    const a = instance(() => now);
    const P = project();
    leftovers.push(a.track(P, "long-lived"));
    now += TTL - 1_000;
    await a.refresh();
    let observerNow = now + 2_000; // past the first expiry, before the refreshed one
    const observer = instance(() => observerNow);
    expect(await observer.isConnected(P, "long-lived")).toBe(true);
    observerNow = now + TTL + 1;
    expect(await observer.isConnected(P, "long-lived")).toBe(false);
  });
});

describe("StreamingService across two instances (Redis log + presence)", () => {
  const url = REDIS_URL;
  let harness: Harness | undefined;
  let other: StreamingService | undefined;

  afterEach(async () => {
    await harness?.teardown();
    await other?.shutdown();
  });

  it("a send handled by instance B finds A's connection, and B's publish reaches A's client", async () => {
    const logA = new RedisEventLog({ url, processName: `instance-a-${randomUUID()}` });
    harness = await setup({ log: logA, presence: new RedisPresence({ redis: logA.redis }) });
    const logB = new RedisEventLog({ url, processName: `instance-b-${randomUUID()}` });
    other = new StreamingService({ log: logB, presence: new RedisPresence({ redis: logB.redis }) });
    const P = project();

    const { client, connectionId } = await harness.openReady(P);
    expect(await other.isConnected(P, connectionId)).toBe(true);
    const published = await other.publish(P, "run-1:generate-code:0", progressEvent(P, 1));
    const frame = await client.waitForId(published?.id ?? "");
    expect(frame.event).toBe("step.progress");

    client.close();
    await harness.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === connectionId);
    // A's ZREM went out before this check on the same connection.
    expect(await harness.service.isConnected(P, connectionId)).toBe(false);
    expect(await other.isConnected(P, connectionId)).toBe(false);
  });
});

// Unique ids keep runs apart; deleting them afterwards keeps the shared Redis from filling up.
afterAll(async () => {
  if (REDIS_URL === undefined || used.length === 0) return;
  const redis = createRedisConnection({ url: REDIS_URL, name: "genstream-test:cleanup", logger: appLogger, commandTimeoutMs: 2_000 });
  await redis.del(...used.flatMap((p) => [...projectKeys(p).list, projectKeys(p).conns]));
  await quitRedis(redis);
});

describe("RedisPresence without a reachable Redis", () => {
  it("fails isConnected with EventLogUnavailableError within the command timeout", async () => {
    const port = await freePort();
    const redis = createRedisConnection({
      url: `redis://127.0.0.1:${port}`,
      name: "genstream-test:unreachable",
      logger: appLogger,
      commandTimeoutMs: 200,
    });
    try {
      const presence = new RedisPresence({ redis });
      await expect(presence.isConnected("p", "c")).rejects.toBeInstanceOf(EventLogUnavailableError);
    } finally {
      await quitRedis(redis);
    }
  });
});
