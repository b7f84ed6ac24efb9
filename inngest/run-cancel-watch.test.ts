import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { watchRunCancel, RunEndedError } from "./run-cancel-watch";
import { RunReporter, type ReporterDeps, type RunRef } from "./run-reporter";
import { openDb, type DbHandle } from "../src/db/client";
import { createProject } from "../src/db/queries/projects";
import { insertUserMessage } from "../src/db/queries/messages";
import { ensureRun } from "../src/db/queries/runs";
import { insertTestUser } from "../src/test/users";
import { MemoryEventLog, StreamingService } from "../src/streaming";
import { RedisEventLog } from "../src/streaming/redis-log";
import { TEST_REDIS_URL } from "../src/test/services";
import { createMetrics } from "../src/lib/metrics";

const silent = pino({ level: "silent" });

/**
 * A cancel reaches the step that works on the run, on another instance too: two streaming services
 * on their own Redis connections (two app instances), one taking the cancel, the other running the step.
 */
describe("watchRunCancel", () => {
  let db: DbHandle;
  let stepInstance: StreamingService;
  let cancelInstance: StreamingService;

  beforeAll(async () => {
    db = await openDb({ kind: "pglite", dir: null });
    const redisLog = (name: string) => new RedisEventLog({ url: TEST_REDIS_URL, processName: `${name}-${randomUUID().slice(0, 8)}` });
    stepInstance = new StreamingService({ log: redisLog("step"), logger: silent });
    cancelInstance = new StreamingService({ log: redisLog("cancel"), logger: silent });
  });

  afterAll(async () => {
    await Promise.all([stepInstance.shutdown(), cancelInstance.shutdown()]);
    await db.close();
  });

  async function runningRun(): Promise<RunRef> {
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Watched");
    const message = await insertUserMessage(db.db, project.id, "A todo app");
    const ref = { projectId: project.id, messageId: message.id, runId: `run-${randomUUID()}` };
    await ensureRun(db.db, { ...ref, startedAt: new Date() });
    return ref;
  }

  const deps = (streaming: StreamingService): ReporterDeps => ({ db: db.db, streaming, log: silent, metrics: createMetrics() });

  it("aborts when another instance cancels the run, with the cancel's reason", async () => {
    const ref = await runningRun();
    const watch = await watchRunCancel(deps(stepInstance), ref);
    expect(watch.signal.aborted).toBe(false);
    const aborted = once(watch.signal, "abort");
    await new RunReporter(deps(cancelInstance), ref).finish({ status: "cancelled", reason: "Cancelled by the user" });
    await aborted;
    expect(watch.signal.reason).toBeInstanceOf(RunEndedError);
    expect((watch.signal.reason as Error).message).toBe("Cancelled by the user");
    watch.stop();
  });

  it("is aborted from the start when the run was cancelled before the watch began", async () => {
    const ref = await runningRun();
    await new RunReporter(deps(cancelInstance), ref).finish({ status: "cancelled", reason: "Cancelled by the user" });
    const watch = await watchRunCancel(deps(stepInstance), ref);
    expect(watch.signal.aborted).toBe(true);
    watch.stop();
  });

  it("ignores other runs of the project, and stops following when stopped", async () => {
    const ref = await runningRun();
    const otherMessage = await insertUserMessage(db.db, ref.projectId, "A follow-up");
    const other = { ...ref, messageId: otherMessage.id, runId: `run-${randomUUID()}` };
    await ensureRun(db.db, { ...other, startedAt: new Date() });
    const watch = await watchRunCancel(deps(stepInstance), ref);
    const seen = new Promise<void>((resolve) => {
      void stepInstance.follow(ref.projectId, ({ event }) => event.runId === other.runId && event.type === "run.cancelled" && resolve());
    });
    await new RunReporter(deps(cancelInstance), other).finish({ status: "cancelled", reason: "Cancelled by the user" });
    await seen;
    expect(watch.signal.aborted).toBe(false);
    watch.stop();
  });

  it("goes on unwatched, with a warning, when the log cannot be followed; the database still tells a cancel made before", async () => {
    const ref = await runningRun();
    const warnings: string[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
    const down = new StreamingService({ log: new MemoryEventLog(), logger: silent });
    down.follow = () => Promise.reject(new Error("event log unavailable: ECONNREFUSED"));
    const watch = await watchRunCancel({ db: db.db, streaming: down, log }, ref);
    expect(watch.signal.aborted).toBe(false);
    expect(warnings.join("")).toContain("cannot watch the run for a cancel");
    await new RunReporter(deps(cancelInstance), ref).finish({ status: "cancelled", reason: "Cancelled by the user" });
    expect((await watchRunCancel({ db: db.db, streaming: down, log }, ref)).signal.aborted).toBe(true);
    await down.shutdown();
  });
});
