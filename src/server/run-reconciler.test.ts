import { eq, inArray } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../db/client";
import { insertUserMessage, listMessages, setDispatch } from "../db/queries/messages";
import { createProject } from "../db/queries/projects";
import { ensureRun, findRun, updateStep } from "../db/queries/runs";
import { messages, projects } from "../db/schema";
import { createMetrics } from "../lib/metrics";
import { MemoryEventLog, StreamingService } from "../streaming";
import { openTestDb, testDatabaseTargets } from "../test/databases";
import { insertTestUser } from "../test/users";
import { EngineRunsUnavailableError, type EngineEventState, type EngineRunState, type EngineRuns } from "./engine-runs";
import { ENGINE_CANCELLED_REASON, LOST_MESSAGE_REASON, LOST_RUN_REASON } from "../../inngest/functions/replies";
import { RunReconciler, lastProgressAt, lostMessageRunId, reconcileOutcome } from "./run-reconciler";

describe("reconcileOutcome", () => {
  it("keeps what the engine still works on, ends what it cancelled, ended or forgot", () => {
    expect(reconcileOutcome({ kind: "known", status: "Running" })).toBeNull();
    expect(reconcileOutcome({ kind: "known", status: "Queued" })).toBeNull();
    // A status this code does not know is kept: a wrong "failed" is worse than a late one.
    expect(reconcileOutcome({ kind: "known", status: "Sleeping" })).toBeNull();
    expect(reconcileOutcome({ kind: "unknown" })).toEqual({ status: "failed", reason: LOST_RUN_REASON });
    expect(reconcileOutcome({ kind: "known", status: "Completed" })).toEqual({ status: "failed", reason: LOST_RUN_REASON });
    expect(reconcileOutcome({ kind: "known", status: "Failed" })).toEqual({ status: "failed", reason: LOST_RUN_REASON });
    expect(reconcileOutcome({ kind: "known", status: "Cancelled" })).toEqual({ status: "cancelled", reason: ENGINE_CANCELLED_REASON });
  });

  it("a run's last progress is its start or its latest step start or end", () => {
    const startedAt = new Date(1_000);
    const step = { name: "plan" as const, state: "completed" as const, attempt: 0, durationMs: 1 };
    expect(lastProgressAt({ startedAt, steps: [] })).toBe(1_000);
    expect(lastProgressAt({ startedAt, steps: [{ ...step, startedAt: 2_000, completedAt: 5_000 }] })).toBe(5_000);
    expect(lastProgressAt({ startedAt, steps: [{ ...step, startedAt: 7_000, completedAt: null }] })).toBe(7_000);
  });
});

/** An engine the test scripts per run; runs it was not told about (other suites' leftovers) are running. */
class ScriptedEngine implements EngineRuns {
  readonly asked: string[] = [];
  readonly states = new Map<string, EngineRunState | "down" | "refused">();
  lookup(runId: string): Promise<EngineRunState> {
    this.asked.push(runId);
    const state = this.states.get(runId) ?? { kind: "known", status: "Running" };
    if (state === "down") return Promise.reject(new EngineRunsUnavailableError("connect ECONNREFUSED", "engine"));
    if (state === "refused") return Promise.reject(new EngineRunsUnavailableError("The job engine answered 400", "run"));
    return Promise.resolve(state);
  }
  /** Events it was not told about (other suites' leftovers) are known, their run still queued. */
  readonly askedEvents: string[] = [];
  readonly events = new Map<string, EngineEventState | "down">();
  eventRuns(eventId: string): Promise<EngineEventState> {
    this.askedEvents.push(eventId);
    const state = this.events.get(eventId) ?? { kind: "known", runs: 0 };
    if (state === "down") return Promise.reject(new EngineRunsUnavailableError("connect ECONNREFUSED", "engine"));
    return Promise.resolve(state);
  }
}

const MINUTE = 60_000;

describe.each(testDatabaseTargets())("RunReconciler against $name", ({ target }) => {
  let handle: DbHandle;
  let streaming: StreamingService;
  const log = pino({ level: "silent" });
  const created: string[] = [];

  beforeAll(async () => {
    handle = await openTestDb(target);
    streaming = new StreamingService({ log: new MemoryEventLog(), logger: log });
  });

  afterAll(async () => {
    // The running runs go with their projects, so later suites' (and apps') reconcilers don't meet them.
    if (created.length > 0) await handle.db.delete(projects).where(inArray(projects.id, created));
    await streaming.shutdown();
    await handle.close();
  });

  /** A stored running run that started `ageMs` ago, its first step started `stepAgeMs` ago. */
  async function runningRun(ageMs: number, stepAgeMs = ageMs) {
    const owner = await insertTestUser(handle.db);
    const project = await createProject(handle.db, owner.id, "Reconciled");
    created.push(project.id);
    const message = await insertUserMessage(handle.db, project.id, "A shop API with items (name)");
    const runId = `run-${crypto.randomUUID()}`;
    await ensureRun(handle.db, { runId, projectId: project.id, messageId: message.id, startedAt: new Date(Date.now() - ageMs) });
    await updateStep(handle.db, runId, "load-context", { state: "running", attempt: 0, startedAt: Date.now() - stepAgeMs });
    return { runId, projectId: project.id };
  }

  function reconciler(engine: EngineRuns) {
    return new RunReconciler({
      db: handle.db,
      engine,
      reporter: { streaming, log, metrics: createMetrics() },
      log,
      staleAfterMs: 5 * MINUTE,
    });
  }

  async function terminalEvents(projectId: string) {
    return (await streaming.retained(projectId)).map((e) => e.event).filter((e) => e.type === "run.failed" || e.type === "run.cancelled");
  }

  it("a stale run the engine no longer has is failed with a reason a user understands, told to every tab, and answered in the chat", async () => {
    const lost = await runningRun(10 * MINUTE);
    const engine = new ScriptedEngine();
    engine.states.set(lost.runId, { kind: "unknown" });
    const pass = await reconciler(engine).pass();
    expect(pass.failed).toBeGreaterThanOrEqual(1);
    expect(engine.asked).toContain(lost.runId);
    expect(await findRun(handle.db, lost.runId)).toMatchObject({ status: "failed", reason: LOST_RUN_REASON });
    expect(await terminalEvents(lost.projectId)).toEqual([
      expect.objectContaining({ type: "run.failed", runId: lost.runId, reason: LOST_RUN_REASON, step: "load-context" }),
    ]);
    const reply = (await listMessages(handle.db, lost.projectId)).find((m) => m.role === "assistant");
    expect(reply?.content).toContain(LOST_RUN_REASON);
    // A second pass (or a second instance) finds nothing left to do for it.
    await reconciler(engine).pass();
    expect(await terminalEvents(lost.projectId)).toHaveLength(1);
  });

  it("a run the engine cancelled (its dashboard) ends cancelled", async () => {
    const run = await runningRun(10 * MINUTE);
    const engine = new ScriptedEngine();
    engine.states.set(run.runId, { kind: "known", status: "Cancelled" });
    await reconciler(engine).pass();
    expect(await findRun(handle.db, run.runId)).toMatchObject({ status: "cancelled", reason: ENGINE_CANCELLED_REASON });
    expect(await terminalEvents(run.projectId)).toEqual([
      expect.objectContaining({ type: "run.cancelled", reason: ENGINE_CANCELLED_REASON }),
    ]);
  });

  it("a run the engine still runs, and a run with recent progress (not even asked), stay running", async () => {
    const working = await runningRun(10 * MINUTE);
    const fresh = await runningRun(10 * MINUTE, MINUTE);
    const engine = new ScriptedEngine();
    engine.states.set(fresh.runId, { kind: "unknown" });
    await reconciler(engine).pass();
    expect(engine.asked).toContain(working.runId);
    expect(engine.asked).not.toContain(fresh.runId);
    expect((await findRun(handle.db, working.runId))?.status).toBe("running");
    expect((await findRun(handle.db, fresh.runId))?.status).toBe("running");
    expect(await terminalEvents(working.projectId)).toEqual([]);
  });

  it("an engine that cannot be asked proves nothing: the pass stops, the runs wait, and the next pass ends them once it answers", async () => {
    const first = await runningRun(10 * MINUTE);
    const engine = new ScriptedEngine();
    engine.states.set(first.runId, "down");
    const reconcile = reconciler(engine);
    const down = await reconcile.pass();
    expect(down.unavailable).toBe(1);
    expect((await findRun(handle.db, first.runId))?.status).toBe("running");
    engine.states.set(first.runId, { kind: "unknown" });
    await reconcile.pass();
    expect((await findRun(handle.db, first.runId))?.status).toBe("failed");
  });

  it("a run whose lookup the engine refuses (an id it does not take) waits; the pass goes on to the others", async () => {
    const odd = await runningRun(12 * MINUTE);
    const lost = await runningRun(10 * MINUTE);
    const engine = new ScriptedEngine();
    engine.states.set(odd.runId, "refused");
    engine.states.set(lost.runId, { kind: "unknown" });
    await reconciler(engine).pass();
    expect((await findRun(handle.db, odd.runId))?.status).toBe("running");
    expect((await findRun(handle.db, lost.runId))?.status).toBe("failed");
  });

  it("pages through every stale run, however many the engine still has", async () => {
    const engine = new ScriptedEngine();
    const working = await Promise.all(Array.from({ length: 101 }, () => runningRun(20 * MINUTE)));
    const lost = await runningRun(10 * MINUTE);
    engine.states.set(lost.runId, { kind: "unknown" });
    await reconciler(engine).pass();
    expect(engine.asked).toEqual(expect.arrayContaining([...working.map((w) => w.runId), lost.runId]));
    expect((await findRun(handle.db, lost.runId))?.status).toBe("failed");
  });

  /** A user message the engine accepted (event `eventId`) `ageMs` ago, with no run. */
  async function acceptedMessage(ageMs: number, eventId: string | null = `ev-${crypto.randomUUID()}`) {
    const owner = await insertTestUser(handle.db);
    const project = await createProject(handle.db, owner.id, "Reconciled");
    created.push(project.id);
    const message = await insertUserMessage(handle.db, project.id, "A shop API with items (name)");
    await setDispatch(handle.db, message.id, "dispatched", eventId);
    await handle.db
      .update(messages)
      .set({ createdAt: new Date(Date.now() - ageMs) })
      .where(eq(messages.id, message.id));
    return { messageId: message.id, projectId: project.id, eventId };
  }

  it("a message whose event the engine lost before a run started gets a failed run with the reason, told to every tab, once", async () => {
    const lost = await acceptedMessage(10 * MINUTE);
    const engine = new ScriptedEngine();
    engine.events.set(lost.eventId!, { kind: "unknown" });
    const pass = await reconciler(engine).pass();
    expect(pass.lostMessages).toBeGreaterThanOrEqual(1);
    const runId = lostMessageRunId(lost.messageId);
    expect(await findRun(handle.db, runId)).toMatchObject({ status: "failed", reason: LOST_MESSAGE_REASON, messageId: lost.messageId });
    expect(await terminalEvents(lost.projectId)).toEqual([
      expect.objectContaining({ type: "run.failed", runId, messageId: lost.messageId, reason: LOST_MESSAGE_REASON }),
    ]);
    const reply = (await listMessages(handle.db, lost.projectId)).find((m) => m.role === "assistant");
    expect(reply?.content).toContain(LOST_MESSAGE_REASON);
    // The message has a run now: a second pass (or instance) does not ask about it again.
    const again = new ScriptedEngine();
    await reconciler(again).pass();
    expect(again.askedEvents).not.toContain(lost.eventId);
    expect(await terminalEvents(lost.projectId)).toHaveLength(1);
  });

  it("a message still queued in the engine, a recent one, one without an event id and one with a run are left alone", async () => {
    const queued = await acceptedMessage(10 * MINUTE);
    const recent = await acceptedMessage(MINUTE);
    const noEvent = await acceptedMessage(10 * MINUTE, null);
    const started = await acceptedMessage(10 * MINUTE);
    await ensureRun(handle.db, {
      runId: `run-${crypto.randomUUID()}`,
      projectId: started.projectId,
      messageId: started.messageId,
      startedAt: new Date(),
    });
    const engine = new ScriptedEngine();
    engine.events.set(queued.eventId!, { kind: "known", runs: 0 });
    for (const m of [recent, started]) engine.events.set(m.eventId!, { kind: "unknown" });
    await reconciler(engine).pass();
    expect(engine.askedEvents).toContain(queued.eventId);
    expect(engine.askedEvents).not.toContain(recent.eventId);
    expect(engine.askedEvents).not.toContain(started.eventId);
    for (const m of [queued, recent, noEvent]) expect(await findRun(handle.db, lostMessageRunId(m.messageId))).toBeNull();
    for (const m of [queued, recent, noEvent, started]) expect(await terminalEvents(m.projectId)).toEqual([]);
  });

  it("an engine that cannot be asked about events proves nothing: the message waits, and gets its failed run once it answers", async () => {
    const lost = await acceptedMessage(10 * MINUTE);
    const engine = new ScriptedEngine();
    engine.events.set(lost.eventId!, "down");
    const reconcile = reconciler(engine);
    expect((await reconcile.pass()).unavailable).toBeGreaterThanOrEqual(1);
    expect(await findRun(handle.db, lostMessageRunId(lost.messageId))).toBeNull();
    engine.events.set(lost.eventId!, { kind: "unknown" });
    await reconcile.pass();
    expect((await findRun(handle.db, lostMessageRunId(lost.messageId)))?.status).toBe("failed");
  });
});
