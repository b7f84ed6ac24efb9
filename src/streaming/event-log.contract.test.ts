import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe } from "vitest";
import { eventLogContract } from "./testing/event-log.contract";
import { MemoryEventLog } from "./memory-log";
import { projectKeys } from "./redis-client";
import { RedisEventLog } from "./redis-log";

import { TEST_REDIS_URL as REDIS_URL } from "../test/services";

eventLogContract({
  name: "memory",
  create: (options) => new MemoryEventLog(options),
  project: () => `proj-${randomUUID()}`,
});

// One process name per file: the logs of this file share one tail, as one app instance would.
const processName = `contract-${process.pid}-${randomUUID().slice(0, 8)}`;

describe("with Redis", () => {
  const projects: string[] = [];
  // Unique ids keep runs apart; deleting them keeps the shared Redis from filling up.
  afterAll(async () => {
    const admin = new Redis(REDIS_URL);
    if (projects.length > 0) await admin.del(...projects.flatMap((p) => projectKeys(p).list));
    await admin.quit();
  });
  eventLogContract({
    name: "redis",
    create: (options) => new RedisEventLog({ url: REDIS_URL, processName, ...options }),
    project: () => {
      const id = `test-${randomUUID()}`;
      projects.push(id);
      return id;
    },
  });
});
