import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../lib/logger";
import { TEST_REDIS_URL as REDIS_URL } from "../test/services";
import { createRedisConnection, quitRedis, untilReady } from "./redis-client";
import type { Redis } from "ioredis";

const open: Redis[] = [];
const connection = (name: string) => {
  const redis = createRedisConnection({ url: REDIS_URL, name: `genstream-test:${name}`, logger: silentLogger, commandTimeoutMs: 2_000 });
  open.push(redis);
  return redis;
};

afterEach(async () => {
  await Promise.all(open.splice(0).map(quitRedis));
});

describe("untilReady", () => {
  it("a SUBSCRIBE made as the connection connects waits for its handshake, so the subscription holds (ioredis#2037)", async () => {
    const publisher = connection("publisher");
    const channel = `gs:test:${randomUUID()}`;
    for (let round = 0; round < 20; round++) {
      const subscriber = connection(`subscriber-${round}`);
      const errors: string[] = [];
      subscriber.on("error", (err: Error) => errors.push(err.message));
      // The moment the socket is up, before the handshake's CLIENT SETINFO and INFO ready check.
      await once(subscriber, "connect");
      await untilReady(subscriber, 2_000);
      await subscriber.subscribe(`${channel}:${round}`);
      expect(await publisher.publish(`${channel}:${round}`, "hello"), `round ${round}`).toBe(1);
      expect(subscriber.status).toBe("ready");
      expect(errors).toEqual([]);
    }
  });

  it("fails after its timeout when the connection never becomes ready, and at once when it has ended", async () => {
    const unreachable = createRedisConnection({
      url: "redis://127.0.0.1:1",
      name: "genstream-test:unreachable",
      logger: silentLogger,
      commandTimeoutMs: 1_000,
    });
    open.push(unreachable);
    await expect(untilReady(unreachable, 300)).rejects.toThrow("redis connection not ready within 300 ms");
    const ended = connection("ended");
    await untilReady(ended, 2_000);
    await quitRedis(ended);
    await expect(untilReady(ended, 2_000)).rejects.toThrow("redis connection has ended");
  });
});
