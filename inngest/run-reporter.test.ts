import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { RunReporter, assistantMessageId, type ReporterDeps, type RunRef, type StepFaults, type StepTools } from "./run-reporter";
import { cancelledReply, failureReply } from "./functions/replies";
import { openTestDb, testDatabaseTargets } from "../src/test/databases";
import type { DbHandle } from "../src/db/client";
import { createProject } from "../src/db/queries/projects";
import { findMessage, insertUserMessage, listMessages } from "../src/db/queries/messages";
import { ensureRun, findRun, updateStep } from "../src/db/queries/runs";
import { findRunOutput, latestArtifact, saveRunArtifact, saveRunOutput } from "../src/db/queries/artifacts";
import { deleteTestUsers, insertTestUser } from "../src/test/users";
import { MemoryEventLog, StreamingService } from "../src/streaming";
import type { StepName } from "../src/streaming/protocol";
import { createMetrics } from "../src/lib/metrics";

/** A run's lifecycle against each database: the single finish path, the step helper, run outputs. */
describe.each(testDatabaseTargets())("run lifecycle against $name", ({ target }) => {
  let handle: DbHandle;
  let streaming: StreamingService;
  let deps: ReporterDeps;
  // Its own registry, so the once-per-run counts are this suite's alone.
  const metrics = createMetrics();
  const owners: string[] = [];

  beforeAll(async () => {
    handle = await openTestDb(target);
    streaming = new StreamingService({ log: new MemoryEventLog(), logger: pino({ level: "silent" }) });
    deps = { db: handle.db, streaming, log: pino({ level: "silent" }), metrics };
  });

  afterAll(async () => {
    await deleteTestUsers(handle.db, owners);
    await streaming.shutdown();
    await handle.close();
  });

  /** A stored project and user message, and the ref of a run for it (not yet stored). */
  async function newRef(): Promise<RunRef> {
    const owner = await insertTestUser(handle.db);
    owners.push(owner.id);
    const project = await createProject(handle.db, owner.id, "Lifecycle");
    const message = await insertUserMessage(handle.db, project.id, "A shop API with items (name)");
    return { projectId: project.id, messageId: message.id, runId: `run-${crypto.randomUUID()}` };
  }

  async function startedRun(): Promise<RunRef> {
    const ref = await newRef();
    await ensureRun(handle.db, { ...ref, startedAt: new Date(Date.now() - 1_000) });
    return ref;
  }

  async function terminalEvents(ref: RunRef) {
    return (await streaming.retained(ref.projectId))
      .map((e) => e.event)
      .filter((e) => e.type.startsWith("run.") && e.type !== "run.started");
  }

  /** How many runs the duration histogram observed with this outcome. */
  async function observedRuns(outcome: string): Promise<number> {
    const metric = await metrics.runDuration.get();
    return metric.values.find((v) => v.metricName === "genstream_run_duration_seconds_count" && v.labels.outcome === outcome)?.value ?? 0;
  }

  async function assistantMessages(ref: RunRef) {
    return (await listMessages(handle.db, ref.projectId)).filter((m) => m.role === "assistant");
  }

  describe("finish", () => {
    it("completion stores the run, writes the assistant's reply and publishes one run.completed", async () => {
      const ref = await startedRun();
      const reporter = new RunReporter(deps, ref);
      await expect(reporter.finish({ status: "completed", reply: "Generated it.", artifactVersion: 3 })).resolves.toEqual({
        finishedNow: true,
        status: "completed",
      });
      const run = await findRun(handle.db, ref.runId);
      expect(run).toMatchObject({ status: "completed", reason: null });
      expect(await assistantMessages(ref)).toEqual([
        expect.objectContaining({ id: assistantMessageId(ref.runId), runId: ref.runId, content: "Generated it.", artifactVersion: 3 }),
      ]);
      const events = await terminalEvents(ref);
      expect(events).toHaveLength(1);
      const [completed] = events;
      if (completed?.type !== "run.completed") throw new Error(`expected run.completed, got ${completed?.type}`);
      expect(completed).toMatchObject({ assistantMessageId: assistantMessageId(ref.runId), artifactVersion: 3, messageId: ref.messageId });
      // The stored span of the run, so every repeat of the event says the same.
      expect(completed.durationMs).toBe((run?.finishedAt?.getTime() ?? 0) - (run?.startedAt.getTime() ?? 0));
      expect(completed.durationMs).toBeGreaterThanOrEqual(1_000);
    });

    it("a repeated completion (a retried step) writes nothing new and the log keeps one run.completed", async () => {
      const ref = await startedRun();
      const reporter = new RunReporter(deps, ref);
      const observed = await observedRuns("completed");
      await reporter.finish({ status: "completed", reply: "first", artifactVersion: null });
      const finishedAt = (await findRun(handle.db, ref.runId))?.finishedAt;
      await expect(reporter.finish({ status: "completed", reply: "second", artifactVersion: null })).resolves.toEqual({
        finishedNow: false,
        status: "completed",
      });
      expect((await findRun(handle.db, ref.runId))?.finishedAt).toEqual(finishedAt);
      expect((await assistantMessages(ref)).map((m) => m.content)).toEqual(["first"]);
      expect((await terminalEvents(ref)).map((e) => e.type)).toEqual(["run.completed"]);
      // The run's duration is observed once, when it was stored.
      expect(await observedRuns("completed")).toBe(observed + 1);
    });

    it("failure stores the run as failed at the running step, with the failure reply and one run.failed", async () => {
      const ref = await startedRun();
      await updateStep(handle.db, ref.runId, "validate", { state: "running", attempt: 2, startedAt: Date.now() });
      const reporter = new RunReporter(deps, ref);
      await expect(reporter.finish({ status: "failed", reason: "boom" })).resolves.toEqual({ finishedNow: true, status: "failed" });
      const run = await findRun(handle.db, ref.runId);
      expect(run).toMatchObject({ status: "failed", reason: "boom" });
      expect(run?.steps.find((s) => s.name === "validate")?.state).toBe("failed");
      expect((await assistantMessages(ref)).map((m) => [m.id, m.content, m.artifactVersion])).toEqual([
        [assistantMessageId(ref.runId), failureReply("boom", "validate"), null],
      ]);
      expect(await terminalEvents(ref)).toEqual([expect.objectContaining({ type: "run.failed", reason: "boom", step: "validate" })]);
    });

    it("cancel stores the run as cancelled, with the cancel reply and one run.cancelled; what follows cannot finish it again", async () => {
      const ref = await startedRun();
      const reporter = new RunReporter(deps, ref);
      const observed = {
        cancelled: await observedRuns("cancelled"),
        completed: await observedRuns("completed"),
        failed: await observedRuns("failed"),
      };
      await expect(reporter.finish({ status: "cancelled", reason: "Cancelled by the user" }, { whenLogDown: "defer" })).resolves.toEqual({
        finishedNow: true,
        status: "cancelled",
      });
      // The job's own end arriving afterwards: its last step, then a late onFailure.
      await expect(reporter.finish({ status: "completed", reply: "Generated it.", artifactVersion: 1 })).resolves.toEqual({
        finishedNow: false,
        status: "cancelled",
      });
      await expect(reporter.finish({ status: "failed", reason: "late" })).resolves.toEqual({ finishedNow: false, status: "cancelled" });
      expect(await findRun(handle.db, ref.runId)).toMatchObject({ status: "cancelled", reason: "Cancelled by the user" });
      expect((await assistantMessages(ref)).map((m) => m.content)).toEqual([cancelledReply("Cancelled by the user")]);
      expect(await terminalEvents(ref)).toEqual([expect.objectContaining({ type: "run.cancelled", reason: "Cancelled by the user" })]);
      expect({
        cancelled: await observedRuns("cancelled"),
        completed: await observedRuns("completed"),
        failed: await observedRuns("failed"),
      }).toEqual({
        ...observed,
        cancelled: observed.cancelled + 1,
      });
    });

    it("never publishes run.failed for a run that had already completed", async () => {
      const ref = await startedRun();
      const reporter = new RunReporter(deps, ref);
      await reporter.finish({ status: "completed", reply: "Generated it.", artifactVersion: 1 });
      await expect(reporter.finish({ status: "failed", reason: "the last step's retries ran out" })).resolves.toEqual({
        finishedNow: false,
        status: "completed",
      });
      expect(await findRun(handle.db, ref.runId)).toMatchObject({ status: "completed", reason: null });
      expect((await assistantMessages(ref)).map((m) => m.content)).toEqual(["Generated it."]);
      expect((await terminalEvents(ref)).map((e) => e.type)).toEqual(["run.completed"]);
    });

    it("a run that failed before it was stored still tells the tabs, and stores nothing", async () => {
      const ref = await newRef();
      await expect(new RunReporter(deps, ref).finish({ status: "failed", reason: "no database" })).resolves.toEqual({
        finishedNow: false,
        status: null,
      });
      expect(await findRun(handle.db, ref.runId)).toBeNull();
      expect(await findMessage(handle.db, assistantMessageId(ref.runId))).toBeNull();
      expect(await terminalEvents(ref)).toEqual([expect.objectContaining({ type: "run.failed", reason: "no database" })]);
    });

    it("drops the run's leftover outputs", async () => {
      const ref = await startedRun();
      await saveRunOutput(handle.db, ref.runId, { openapi: "{}" });
      await new RunReporter(deps, ref).finish({ status: "failed", reason: "boom" });
      expect(await findRunOutput(handle.db, ref.runId)).toBeNull();
    });
  });

  describe("steps", () => {
    /** Inngest's step.run as far as the helper sees it: runs the body, records the id. */
    function recordingStep(ids: string[]): StepTools {
      return {
        run: async (id, fn) => {
          ids.push(id);
          return fn();
        },
      };
    }

    function recordingFaults(points: [StepName, number, number][], throwAt?: { step: StepName; at: number }): StepFaults {
      return {
        point: async (ref, step, attempt, at) => {
          expect(ref.runId).toMatch(/^run-/);
          points.push([step, attempt, at]);
          if (throwAt && throwAt.step === step && throwAt.at === at) throw new Error(`fault at ${step}:${at}`);
        },
      };
    }

    it("wraps step.run under the step's name, threads the attempt, and reaches a fault point after step.started and each step.progress", async () => {
      const ref = await startedRun();
      const ids: string[] = [];
      const points: [StepName, number, number][] = [];
      const steps = new RunReporter({ ...deps, faults: recordingFaults(points) }, ref).steps(recordingStep(ids), 2);
      const value = await steps.run("plan", async (report) => {
        await report("one");
        await report("two", { fraction: 1 });
        return { value: { resources: 2 }, summary: "2 resources" };
      });
      expect(value).toEqual({ resources: 2 });
      expect(ids).toEqual(["plan"]);
      expect(points).toEqual([
        ["plan", 2, 0],
        ["plan", 2, 1],
        ["plan", 2, 2],
      ]);
      const events = (await streaming.retained(ref.projectId)).map((e) => e.event);
      expect(events.map((e) => e.type)).toEqual(["step.started", "step.progress", "step.progress", "step.completed"]);
      expect(events[0]).toMatchObject({ type: "step.started", step: "plan", attempt: 2 });
      expect(events[3]).toMatchObject({ type: "step.completed", step: "plan", summary: "2 resources" });
      expect((await findRun(handle.db, ref.runId))?.steps.find((s) => s.name === "plan")).toMatchObject({ state: "completed", attempt: 2 });
    });

    it("a fault point that throws fails the step after what it had published, and the step never completes", async () => {
      const ref = await startedRun();
      const points: [StepName, number, number][] = [];
      const steps = new RunReporter({ ...deps, faults: recordingFaults(points, { step: "generate-code", at: 1 }) }, ref).steps(
        recordingStep([]),
        0,
      );
      let bodyGotPast = false;
      await expect(
        steps.run("generate-code", async (report) => {
          await report("schemas.ts");
          bodyGotPast = true;
          return { value: null };
        }),
      ).rejects.toThrow("fault at generate-code:1");
      expect(bodyGotPast).toBe(false);
      expect(points).toEqual([
        ["generate-code", 0, 0],
        ["generate-code", 0, 1],
      ]);
      expect((await streaming.retained(ref.projectId)).map((e) => e.event.type)).toEqual(["step.started", "step.progress"]);
      expect((await findRun(handle.db, ref.runId))?.steps.find((s) => s.name === "generate-code")?.state).toBe("running");
    });

    it("the first step opens the run: the run row, then run.started before the step's events", async () => {
      const ref = await newRef();
      const steps = new RunReporter(deps, ref).steps(recordingStep([]), 0);
      await steps.run("load-context", async () => ({ value: null }));
      expect(await findRun(handle.db, ref.runId)).toMatchObject({ status: "running" });
      expect((await streaming.retained(ref.projectId)).map((e) => e.event.type)).toEqual(["run.started", "step.started", "step.completed"]);
    });
  });

  describe("run outputs", () => {
    it("a retried step overwrites its output; saving the artifact twice stores one version and drops the outputs", async () => {
      const ref = await startedRun();
      await saveRunOutput(handle.db, ref.runId, { openapi: "first attempt" });
      await saveRunOutput(handle.db, ref.runId, { openapi: "second attempt" });
      await saveRunOutput(handle.db, ref.runId, { files: [{ path: "a.ts", content: "x" }] });
      expect(await findRunOutput(handle.db, ref.runId)).toMatchObject({
        openapi: "second attempt",
        files: [{ path: "a.ts", content: "x" }],
      });
      // Nothing is visible before the save.
      expect(await latestArtifact(handle.db, ref.projectId)).toBeNull();
      const input = { projectId: ref.projectId, runId: ref.runId, messageId: ref.messageId, plan: { title: "T" } };
      const first = await saveRunArtifact(handle.db, input);
      const again = await saveRunArtifact(handle.db, input);
      expect(again).toEqual(first);
      expect(first).toMatchObject({ version: 1, openapi: "second attempt", files: [{ path: "a.ts", content: "x" }] });
      expect(await findRunOutput(handle.db, ref.runId)).toBeNull();
      expect((await latestArtifact(handle.db, ref.projectId))?.version).toBe(1);
    });

    it("once the run has ended (cancelled), outputs and versions are no longer saved", async () => {
      const ref = await startedRun();
      expect(await saveRunOutput(handle.db, ref.runId, { openapi: "{}" })).toBe(true);
      await new RunReporter(deps, ref).finish({ status: "cancelled", reason: "Cancelled by the user" });
      expect(await saveRunOutput(handle.db, ref.runId, { files: [] })).toBe(false);
      expect(await findRunOutput(handle.db, ref.runId)).toBeNull();
      expect(
        await saveRunArtifact(handle.db, { projectId: ref.projectId, runId: ref.runId, messageId: ref.messageId, plan: {} }),
      ).toBeNull();
      expect(await latestArtifact(handle.db, ref.projectId)).toBeNull();
    });

    it("saving an artifact without outputs fails instead of storing an empty version", async () => {
      const ref = await startedRun();
      await saveRunOutput(handle.db, ref.runId, { openapi: "{}" });
      await expect(
        saveRunArtifact(handle.db, { projectId: ref.projectId, runId: ref.runId, messageId: ref.messageId, plan: {} }),
      ).rejects.toThrow(/no generated outputs/);
      expect(await latestArtifact(handle.db, ref.projectId)).toBeNull();
    });
  });
});
