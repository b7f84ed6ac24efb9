import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { createMetrics } from "../../lib/metrics";
import { createCaller } from "../root";
import type { Context } from "../context";
import { RecordingJobs } from "../../test/recording-jobs";
import { testDatabaseTargets, openTestDb } from "../../test/databases";
import type { DbHandle } from "../../db/client";
import { MemoryEventLog, StreamingService } from "../../streaming";
import { allowAll, startServer, StreamClient, type TestServer } from "../../streaming/test-harness";
import { ensureRun } from "../../db/queries/runs";
import { insertUserMessageWithinRate } from "../../db/queries/messages";
import { readyFrameSchema } from "../../streaming/protocol";
import { deleteTestUsers, insertTestUser } from "../../test/users";

async function expectTrpcError(promise: Promise<unknown>, code: TRPCError["code"]): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  expect((error as TRPCError).code).toBe(code);
  return error as TRPCError;
}

describe.each(testDatabaseTargets())("tRPC routers against $name", ({ target }) => {
  let handle: DbHandle;
  let streaming: StreamingService;
  let server: TestServer;
  let jobs: RecordingJobs;
  let caller: ReturnType<typeof createCaller>;
  let ownerId: string;
  const clients: StreamClient[] = [];

  beforeAll(async () => {
    handle = await openTestDb(target);
    streaming = new StreamingService({ log: new MemoryEventLog(), logger: pino({ level: "silent" }), authorize: allowAll });
    server = await startServer(streaming);
    jobs = new RecordingJobs();
    const owner = await insertTestUser(handle.db, "owner");
    ownerId = owner.id;
    const ctx: Context = { db: handle.db, streaming, jobs, log: pino({ level: "silent" }), metrics: createMetrics(), user: owner };
    caller = createCaller(ctx);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await deleteTestUsers(handle.db, [ownerId]);
    await server.close();
    await streaming.shutdown();
    await handle.close();
  });

  async function connect(projectId: string): Promise<string> {
    const client = await StreamClient.open(server.url(projectId));
    clients.push(client);
    const ready = await client.waitForEvent("ready");
    return readyFrameSchema.parse(JSON.parse(ready.data)).connectionId;
  }

  it("creates, lists and gets projects", async () => {
    const project = await caller.project.create({ name: "  Bookstore  " });
    expect(project.name).toBe("Bookstore");
    const list = await caller.project.list();
    expect(list.find((p) => p.id === project.id)).toMatchObject({ name: "Bookstore", messageCount: 0 });
    const got = await caller.project.get({ projectId: project.id });
    expect(got.project.id).toBe(project.id);
    expect(got.runs).toEqual([]);
    expect(got.cursor).toMatch(/^[A-Za-z0-9_-]+:0$/);
  });

  it("rejects an empty or over-long project name with field errors", async () => {
    await expectTrpcError(caller.project.create({ name: "   " }), "BAD_REQUEST");
    const error = await expectTrpcError(caller.project.create({ name: "x".repeat(81) }), "BAD_REQUEST");
    expect(error.message).toContain("at most 80");
  });

  it("answers NOT_FOUND for an unknown project on every project-scoped procedure", async () => {
    await expectTrpcError(caller.project.get({ projectId: "nosuchproject" }), "NOT_FOUND");
    await expectTrpcError(caller.message.list({ projectId: "nosuchproject" }), "NOT_FOUND");
    await expectTrpcError(
      caller.message.send({ projectId: "nosuchproject", content: "hi", connectionId: crypto.randomUUID() }),
      "NOT_FOUND",
    );
    await expectTrpcError(
      caller.message.retry({ projectId: "nosuchproject", messageId: "m", connectionId: crypto.randomUUID() }),
      "NOT_FOUND",
    );
    await expectTrpcError(caller.generation.cancel({ projectId: "nosuchproject", runId: "r1" }), "NOT_FOUND");
  });

  it("answers BAD_REQUEST for a malformed project id", async () => {
    await expectTrpcError(caller.project.get({ projectId: "../etc/passwd" }), "BAD_REQUEST");
  });

  it("refuses a send without a ready connection for that project (PRECONDITION_FAILED), storing nothing", async () => {
    const project = await caller.project.create({ name: "Gate" });
    const other = await caller.project.create({ name: "Other" });
    const otherConnection = await connect(other.id);
    const error = await expectTrpcError(
      caller.message.send({ projectId: project.id, content: "A shop API with items (name)", connectionId: otherConnection }),
      "PRECONDITION_FAILED",
    );
    expect(error.message).toContain("not connected");
    await expectTrpcError(
      caller.message.send({ projectId: project.id, content: "A shop API with items (name)", connectionId: crypto.randomUUID() }),
      "PRECONDITION_FAILED",
    );
    expect(await caller.message.list({ projectId: project.id })).toEqual([]);
    expect(jobs.iterations.filter((i) => i.projectId === project.id)).toEqual([]);
  });

  it("stores the message and starts the job for a ready connection", async () => {
    const project = await caller.project.create({ name: "Shop" });
    const connectionId = await connect(project.id);
    const sent = await caller.message.send({ projectId: project.id, content: " A shop API with items (name) ", connectionId });
    expect(sent).toMatchObject({ role: "user", content: "A shop API with items (name)", dispatch: "dispatched" });
    expect(jobs.iterations).toContainEqual({ projectId: project.id, messageId: sent.id });
    const list = await caller.message.list({ projectId: project.id });
    expect(list.map((m) => m.id)).toEqual([sent.id]);
  });

  it("rejects empty and over-long messages with zod field errors", async () => {
    const project = await caller.project.create({ name: "Limits" });
    const connectionId = await connect(project.id);
    const empty = await expectTrpcError(caller.message.send({ projectId: project.id, content: "   ", connectionId }), "BAD_REQUEST");
    expect(empty.message).toContain("cannot be empty");
    const long = await expectTrpcError(
      caller.message.send({ projectId: project.id, content: "x".repeat(8_001), connectionId }),
      "BAD_REQUEST",
    );
    expect(long.message).toContain("at most 8000");
    await expectTrpcError(caller.message.send({ projectId: project.id, content: "ok", connectionId: "not-a-uuid" }), "BAD_REQUEST");
    expect(await caller.message.list({ projectId: project.id })).toEqual([]);
  });

  it("keeps the message when the job engine is down and says so (SERVICE_UNAVAILABLE)", async () => {
    const project = await caller.project.create({ name: "Down" });
    const connectionId = await connect(project.id);
    jobs.fail = true;
    try {
      const error = await expectTrpcError(
        caller.message.send({ projectId: project.id, content: "A shop API with items (name)", connectionId }),
        "SERVICE_UNAVAILABLE",
      );
      expect(error.message).toContain("connection refused");
    } finally {
      jobs.fail = false;
    }
    const list = await caller.message.list({ projectId: project.id });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ content: "A shop API with items (name)", dispatch: "failed" });

    // Once the engine is back, the stored message is retried as it is: same id, no second copy.
    const stored = list[0]!;
    const retried = await caller.message.retry({ projectId: project.id, messageId: stored.id, connectionId });
    expect(retried).toMatchObject({ id: stored.id, dispatch: "dispatched" });
    expect(jobs.iterations).toContainEqual({ projectId: project.id, messageId: stored.id });
    expect(await caller.message.list({ projectId: project.id })).toHaveLength(1);
    await expectTrpcError(caller.message.retry({ projectId: project.id, messageId: stored.id, connectionId }), "CONFLICT");
    await expectTrpcError(caller.message.retry({ projectId: project.id, messageId: "nosuchmessage", connectionId }), "NOT_FOUND");
  });

  it("keeps the message when stream presence (Redis) cannot be reached, and it is retried once it can", async () => {
    const project = await caller.project.create({ name: "Presence down" });
    // Another instance whose presence store is down: the caller's stream is not held here, so it cannot be confirmed.
    const cut = new StreamingService({
      log: new MemoryEventLog(),
      logger: pino({ level: "silent" }),
      presence: { track: () => () => undefined, isConnected: () => Promise.reject(new Error("event log unavailable: ECONNREFUSED")) },
    });
    const owner = await insertTestUser(handle.db, "presence-owner");
    const ownCaller = createCaller({
      db: handle.db,
      streaming: cut,
      jobs,
      log: pino({ level: "silent" }),
      metrics: createMetrics(),
      user: owner,
    });
    const own = await ownCaller.project.create({ name: "Presence down" });
    const dispatched = jobs.iterations.length;
    const error = await expectTrpcError(
      ownCaller.message.send({ projectId: own.id, content: "A shop API with items (name)", connectionId: crypto.randomUUID() }),
      "SERVICE_UNAVAILABLE",
    );
    expect(error.message).toContain("Your message is saved");
    expect(error.message).toContain("live progress is temporarily unavailable");
    expect(jobs.iterations).toHaveLength(dispatched);
    const [stored] = await ownCaller.message.list({ projectId: own.id });
    expect(stored).toMatchObject({ content: "A shop API with items (name)", dispatch: "failed" });
    // A retry while presence is still down is refused without dispatching; nothing else changes.
    await expectTrpcError(
      ownCaller.message.retry({ projectId: own.id, messageId: stored?.id ?? "", connectionId: crypto.randomUUID() }),
      "PRECONDITION_FAILED",
    );
    expect(jobs.iterations).toHaveLength(dispatched);
    await cut.shutdown();
    // A stream that is not connected at all is still PRECONDITION_FAILED with nothing stored.
    await expectTrpcError(
      caller.message.send({ projectId: project.id, content: "hello", connectionId: crypto.randomUUID() }),
      "PRECONDITION_FAILED",
    );
    expect(await caller.message.list({ projectId: project.id })).toEqual([]);
  });

  it("cancels a running run: stored as cancelled, run.cancelled published, second cancel is a CONFLICT", async () => {
    const project = await caller.project.create({ name: "Cancel" });
    const connectionId = await connect(project.id);
    const sent = await caller.message.send({ projectId: project.id, content: "A shop API with items (name)", connectionId });
    const runId = `run-${crypto.randomUUID()}`;
    await ensureRun(handle.db, { runId, projectId: project.id, messageId: sent.id, startedAt: new Date() });
    const watcher = await StreamClient.open(server.url(project.id));
    clients.push(watcher);
    await watcher.waitForEvent("ready");
    await expect(caller.generation.cancel({ projectId: project.id, runId })).resolves.toEqual({
      runId,
      status: "cancelled",
    });
    expect(jobs.cancels).toContainEqual({ projectId: project.id, messageId: sent.id, runId });
    const frame = await watcher.waitForEvent("run.cancelled");
    expect(frame.data).toContain("Cancelled by the user");
    const state = await caller.project.get({ projectId: project.id });
    expect(state.runs[0]).toMatchObject({ runId, status: "cancelled", reason: "Cancelled by the user" });
    await expectTrpcError(caller.generation.cancel({ projectId: project.id, runId }), "CONFLICT");
  });

  it("cancel during an event log outage: the run is cancelled and stored at once, run.cancelled follows when the log is back", async () => {
    /** The log is down (circuit open) for the first two appends, then back. */
    class OutageLog extends MemoryEventLog {
      refusals = 2;
      override append(...args: Parameters<MemoryEventLog["append"]>) {
        if (this.refusals-- > 0)
          return Promise.reject(
            Object.assign(new Error("event log is unavailable (circuit open)"), { name: "CircuitOpenError", retryAfterMs: 0 }),
          );
        return super.append(...args);
      }
    }
    const outageLog = new OutageLog();
    const down = new StreamingService({ log: outageLog, logger: pino({ level: "silent" }), authorize: allowAll });
    const owner = await insertTestUser(handle.db, "cancel-outage-owner");
    const ownCaller = createCaller({
      db: handle.db,
      streaming: down,
      jobs,
      log: pino({ level: "silent" }),
      metrics: createMetrics(),
      user: owner,
    });
    const project = await ownCaller.project.create({ name: "Cancel in outage" });
    const message = await insertUserMessageWithinRate(handle.db, {
      ownerId: owner.id,
      projectId: project.id,
      content: "A shop API",
      perMinute: 100,
    });
    const messageId = message?.id ?? "";
    const runId = `run-${crypto.randomUUID()}`;
    await ensureRun(handle.db, { runId, projectId: project.id, messageId, startedAt: new Date() });
    const delivered = new Promise<string>((resolve) => outageLog.subscribe(project.id, (e) => resolve(e.event.type)));
    await expect(ownCaller.generation.cancel({ projectId: project.id, runId })).resolves.toEqual({ runId, status: "cancelled" });
    expect((await ownCaller.project.get({ projectId: project.id })).runs[0]).toMatchObject({ runId, status: "cancelled" });
    // Published in the background with backoff, once the log answers again.
    expect(await delivered).toBe("run.cancelled");
    expect(outageLog.refusals).toBeLessThan(0);
    await down.shutdown();
  });

  it("answers NOT_FOUND for a run or an artifact of another project", async () => {
    const a = await caller.project.create({ name: "A" });
    const b = await caller.project.create({ name: "B" });
    const connectionId = await connect(a.id);
    const sent = await caller.message.send({ projectId: a.id, content: "A shop API with items (name)", connectionId });
    const runId = `run-${crypto.randomUUID()}`;
    await ensureRun(handle.db, { runId, projectId: a.id, messageId: sent.id, startedAt: new Date() });
    await expectTrpcError(caller.generation.cancel({ projectId: b.id, runId }), "NOT_FOUND");
    await expectTrpcError(caller.generation.artifact({ projectId: a.id, version: 1 }), "NOT_FOUND");
  });
});
