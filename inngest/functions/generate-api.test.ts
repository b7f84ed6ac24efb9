import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import pino from "pino";
import { serve } from "inngest/node";
import { GENERATE_API_RETRIES, createGenerateApi } from "./generate-api";
import { createGenerateApiCancelled } from "./generate-api-cancelled";
import { ENGINE_CANCELLED_REASON, cancelledReply } from "./replies";
import { inngest } from "../client";
import { RunReporter, type ReporterDeps, type StepFaults } from "../run-reporter";
import { createMetrics } from "../../src/lib/metrics";
import { AppServer, fastBackoff, nextFinishedRun } from "../local/test-support";
import { LocalExecutor } from "../local/executor";
import { openDb, type DbHandle } from "../../src/db/client";
import { createProject } from "../../src/db/queries/projects";
import { insertUserMessage, listMessages } from "../../src/db/queries/messages";
import { findRun } from "../../src/db/queries/runs";
import { findRunOutput, latestArtifact } from "../../src/db/queries/artifacts";
import { artifacts } from "../../src/db/schema";
import { limits } from "../../src/server/limits";
import { insertTestUser } from "../../src/test/users";
import { MemoryEventLog, StreamingService } from "../../src/streaming";
import { CONVERSATION } from "../../src/generation/testing/fixtures";
import { STEP_NAMES, type ProgressEvent } from "../../src/streaming/protocol";
import { CANNED_TODO_PLAN, startFakeModelServer } from "../../src/test/fake-model-server";
import { modelConfigFromEnv } from "../../src/generation/model";

/**
 * The generation function, run for real: the stock client's `serve` handler on node:http, driven by
 * the embedded executor, writing to an in-memory PGlite and publishing into a real streaming service.
 * `faults` lets a test make a publish throw, the way a failing dependency would inside a step;
 * `pointHook` is what the job's fault points (after step.started and each step.progress) do.
 */
describe("generate-api function", () => {
  let db: DbHandle;
  let streaming: StreamingService;
  let app: AppServer;
  let executor: LocalExecutor;
  const faults = new Map<string, number>();
  /** What the job's fault points do in the current test (none by default). */
  let pointHook: StepFaults["point"] | undefined;
  let deps: ReporterDeps;
  const published: { key: string; event: ProgressEvent; stored: boolean }[] = [];
  /** Content-Length of every call the executor made to the app. */
  const requestBytes: number[] = [];

  beforeAll(async () => {
    db = await openDb({ kind: "pglite", dir: null });
    streaming = new StreamingService({ log: new MemoryEventLog(), logger: pino({ level: "silent" }) });
    deps = {
      db: db.db,
      log: pino({ level: "silent" }),
      metrics: createMetrics(),
      faults: { point: (...args) => pointHook?.(...args) ?? Promise.resolve() },
      streaming: {
        async publish(projectId, key, event) {
          const suffix = key.slice(key.indexOf(":") + 1);
          const remaining = faults.get(suffix) ?? 0;
          if (remaining > 0) {
            faults.set(suffix, remaining - 1);
            throw new Error(`injected publish failure for ${suffix}`);
          }
          const logged = await streaming.publish(projectId, key, event);
          published.push({ key, event, stored: logged !== null });
          return logged;
        },
        follow: (projectId, listener) => streaming.follow(projectId, listener),
      },
    };
    app = await AppServer.start();
    const handler = serve({
      client: inngest,
      functions: [createGenerateApi(async () => deps), createGenerateApiCancelled(async () => deps)],
    });
    app.setHandler((req, res) => {
      if (req.method === "POST") requestBytes.push(Number(req.headers["content-length"] ?? Number.NaN));
      void handler(req, res);
    });
    executor = new LocalExecutor({ appUrl: app.url, port: 0, backoff: fastBackoff });
    await executor.start();
    await executor.waitForSync();
  });

  afterEach(() => {
    pointHook = undefined;
    faults.clear();
  });

  afterAll(async () => {
    await executor.stop();
    await app.stop();
    await streaming.shutdown();
    await db.close();
  });

  async function run(content: string, projectName = "P") {
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, projectName);
    const message = await insertUserMessage(db.db, project.id, content);
    const finished = nextFinishedRun(executor, "genstream-generate-api");
    executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
    const view = await finished;
    return { project, message, view, events: await streaming.retained(project.id) };
  }

  it("runs every step once and publishes run.started, each step in order, then run.completed", async () => {
    const { project, view, events } = await run("A shop API with items (name, price:number)");
    expect(view.status).toBe("Completed");
    for (const name of STEP_NAMES) {
      const steps = view.timeline.filter((s) => s.name === name);
      expect(steps, name).toHaveLength(1);
      expect(steps[0]?.attempts, name).toBe(1);
    }
    const sequence = events.map((e) =>
      e.event.type.startsWith("step.") && "step" in e.event ? `${e.event.type}:${e.event.step}` : e.event.type,
    );
    expect(sequence[0]).toBe("run.started");
    expect(sequence[sequence.length - 1]).toBe("run.completed");
    const starts = sequence.filter((s) => s.startsWith("step.started:")).map((s) => s.split(":")[1]);
    const completions = sequence.filter((s) => s.startsWith("step.completed:")).map((s) => s.split(":")[1]);
    expect(starts).toEqual([...STEP_NAMES]);
    expect(completions).toEqual([...STEP_NAMES]);
    // Each step's events sit between its own started and completed.
    for (const name of STEP_NAMES) {
      const first = sequence.indexOf(`step.started:${name}`);
      const last = sequence.indexOf(`step.completed:${name}`);
      const progress = sequence.map((s, i) => [s, i] as const).filter(([s]) => s === `step.progress:${name}`);
      for (const [, i] of progress) expect(i > first && i < last, name).toBe(true);
    }
    const stored = await findRun(db.db, view.runId);
    expect(stored?.status).toBe("completed");
    expect(stored?.steps.every((s) => s.state === "completed")).toBe(true);
    // The run's duration spans all its steps (the handler re-executes per step; the start is memoized).
    const completed = events[events.length - 1]?.event;
    const stepTotal = stored?.steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0) ?? 0;
    expect(completed?.type === "run.completed" ? completed.durationMs : -1).toBeGreaterThanOrEqual(stepTotal);
    const artifact = await latestArtifact(db.db, project.id);
    expect(artifact?.version).toBe(1);
    const assistant = (await listMessages(db.db, project.id)).filter((m) => m.role === "assistant");
    expect(assistant).toHaveLength(1);
    expect(assistant[0]?.artifactVersion).toBe(1);
  });

  it("retries a step that failed once without duplicating any event for the client", async () => {
    faults.set("generate-code:completed", 1);
    const { view, events } = await run("A library API with books (title, isbn unique) and members (name)");
    expect(view.status).toBe("Completed");
    const codeStep = view.timeline.find((s) => s.name === "generate-code");
    expect(codeStep?.attempts).toBe(2);
    const keys = events.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The retry re-emitted the step's progress; the log stored each key once and dropped the rest.
    const codeProgress = published.filter(
      (p) => p.event.type === "step.progress" && p.event.runId === view.runId && p.event.step === "generate-code",
    );
    expect(codeProgress.filter((p) => p.stored).length).toBeGreaterThan(0);
    expect(codeProgress.filter((p) => !p.stored).length).toBe(codeProgress.filter((p) => p.stored).length);
    // The retry itself is visible: a second step.started with attempt 1.
    const starts = events.filter((e) => e.event.type === "step.started" && e.event.step === "generate-code");
    expect(starts.map((e) => (e.event.type === "step.started" ? e.event.attempt : -1))).toEqual([0, 1]);
    expect(events.filter((e) => e.event.type === "step.completed" && e.event.step === "generate-code")).toHaveLength(1);
  });

  it("publishes run.failed with the failing step and a readable reason when a step exhausts its retries", async () => {
    faults.set("validate:started:0", 1);
    faults.set("validate:started:1", 1);
    faults.set("validate:started:2", 1);
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Failing");
    const message = await insertUserMessage(db.db, project.id, "A shop API with items (name)");
    const failure = nextFinishedRun(executor, "genstream-generate-api-failure");
    executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
    await failure;
    const events = await streaming.retained(project.id);
    const last = events[events.length - 1]?.event;
    expect(last?.type).toBe("run.failed");
    if (last?.type !== "run.failed") throw new Error("unreachable");
    expect(last.step).toBe("validate");
    expect(last.reason).toContain("injected publish failure");
    const stored = await findRun(db.db, last.runId);
    expect(stored?.status).toBe("failed");
    expect(stored?.steps.find((s) => s.name === "validate")?.state).toBe("failed");
    const reply = (await listMessages(db.db, project.id)).find((m) => m.role === "assistant");
    expect(reply?.content).toContain("failed at step validate");
  });

  it("answers a message it cannot understand with a helpful reply and no artifact", async () => {
    const { project, view, events } = await run("hello there");
    expect(view.status).toBe("Completed");
    const done = events[events.length - 1]?.event;
    expect(done?.type).toBe("run.completed");
    if (done?.type !== "run.completed") throw new Error("unreachable");
    expect(done.artifactVersion).toBeNull();
    const reply = (await listMessages(db.db, project.id)).find((m) => m.role === "assistant");
    expect(reply?.content).toMatch(/example/i);
    expect(await latestArtifact(db.db, project.id)).toBeNull();
    expect(events.some((e) => e.event.type === "step.started" && e.event.step === "generate-openapi")).toBe(false);
  });

  it("iterates on the previous version: a follow-up keeps the old resources and stores version 2", async () => {
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Iterate");
    for (const content of [
      "A bookstore API with books (title, price:number) and authors (name)",
      "add reviews (rating:int 1..5, body) to books",
    ]) {
      const message = await insertUserMessage(db.db, project.id, content);
      const finished = nextFinishedRun(executor, "genstream-generate-api");
      executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
      expect((await finished).status).toBe("Completed");
    }
    const artifact = await latestArtifact(db.db, project.id);
    expect(artifact?.version).toBe(2);
    expect(artifact?.openapi).toContain("/reviews");
    expect(artifact?.openapi).toContain("/authors");
  });

  it("sends the engine no generated output: every call is smaller than the OpenAPI text alone, and far under the body limit", async () => {
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Conversation");
    requestBytes.length = 0;
    let lastRun = "";
    for (const content of CONVERSATION) {
      const message = await insertUserMessage(db.db, project.id, content);
      const finished = nextFinishedRun(executor, "genstream-generate-api");
      executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
      const view = await finished;
      expect(view.status).toBe("Completed");
      lastRun = view.runId;
    }
    const artifact = await latestArtifact(db.db, project.id);
    expect(artifact?.version).toBe(CONVERSATION.length);
    expect(requestBytes.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    const largest = Math.max(...requestBytes);
    // The largest plan of the tests: its last run's calls carry the plan and summaries, not the outputs.
    expect(largest).toBeLessThan(artifact?.openapi.length ?? 0);
    expect(largest * 64).toBeLessThan(limits.inngestRequestBodyMaxBytes);
    // The outputs became the version, and their working copy is gone.
    expect(await findRunOutput(db.db, lastRun)).toBeNull();
  });

  it("saves each large output once per run although the steps that made them were retried", async () => {
    faults.set("generate-openapi:completed", 1);
    faults.set("save:completed", 1);
    let beforeSave: { artifact: unknown; openapi: boolean; files: boolean } | undefined;
    pointHook = async (ref, step, _attempt, at) => {
      if (step !== "validate" || at !== 0) return;
      const output = await findRunOutput(db.db, ref.runId);
      beforeSave = {
        artifact: await latestArtifact(db.db, ref.projectId),
        openapi: Boolean(output?.openapi),
        files: Boolean(output?.files?.length),
      };
    };
    const { project, view, events } = await run(
      "A shop API with items (name, price:number) and orders (item -> items, quantity:int 1..)",
      "Retried saves",
    );
    expect(view.status).toBe("Completed");
    expect(view.timeline.find((s) => s.name === "generate-openapi")?.attempts).toBe(2);
    expect(view.timeline.find((s) => s.name === "save")?.attempts).toBe(2);
    // While the run validates, its outputs are stored and no version is visible yet.
    expect(beforeSave).toEqual({ artifact: null, openapi: true, files: true });
    const versions = await db.db.select().from(artifacts).where(eq(artifacts.projectId, project.id));
    expect(versions.map((a) => a.version)).toEqual([1]);
    expect(versions[0]?.openapi).toContain("/orders");
    expect(await findRunOutput(db.db, view.runId)).toBeNull();
    const done = events[events.length - 1]?.event;
    expect(done?.type === "run.completed" ? done.artifactVersion : null).toBe(1);
  });

  it("threads each invocation's attempt into the steps and reaches a fault point after step.started and after each step.progress", async () => {
    const points: [string, number, number][] = [];
    pointHook = async (_ref, step, attempt, at) => {
      points.push([step, attempt, at]);
      if (step === "generate-code" && attempt === 0 && at === 2) throw new Error("injected fault at generate-code:2");
    };
    const { view, events } = await run("A shop API with items (name, price:number)", "Fault points");
    expect(view.status).toBe("Completed");
    for (const name of STEP_NAMES) {
      const progress = events.filter((e) => e.event.type === "step.progress" && e.event.step === name).length;
      const attempts = name === "generate-code" ? [0, 1] : [0];
      const expected = attempts.flatMap((attempt) =>
        Array.from({ length: (attempt === 0 && name === "generate-code" ? 2 : progress) + 1 }, (_, at) => [name, attempt, at]),
      );
      expect(
        points.filter(([step]) => step === name),
        name,
      ).toEqual(expected);
    }
    const starts = events.filter((e) => e.event.type === "step.started" && e.event.step === "generate-code");
    expect(starts.map((e) => (e.event.type === "step.started" ? e.event.attempt : -1))).toEqual([0, 1]);
    expect((await findRun(db.db, view.runId))?.steps.find((s) => s.name === "generate-code")).toMatchObject({
      state: "completed",
      attempt: 1,
    });
  });

  it("never publishes run.failed for a run that had already completed, even when its last step then exhausts its retries", async () => {
    // The run is stored as completed on the first try of the last step; only its event cannot be published.
    faults.set("run.completed", GENERATE_API_RETRIES + 1);
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Completed, then failed");
    const message = await insertUserMessage(db.db, project.id, "A shop API with items (name)");
    const failure = nextFinishedRun(executor, "genstream-generate-api-failure");
    executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
    await failure;
    const events = await streaming.retained(project.id);
    expect(events.some((e) => e.event.type === "run.failed")).toBe(false);
    const runId = events[0]?.event.runId ?? "";
    expect(await findRun(db.db, runId)).toMatchObject({ status: "completed", reason: null });
    const replies = (await listMessages(db.db, project.id)).filter((m) => m.role === "assistant");
    expect(replies.map((m) => m.artifactVersion)).toEqual([1]);
    expect(replies[0]?.content).toContain("Generated");
  });

  it("a run cancelled while it saves stays cancelled: no version, and neither run.completed nor run.failed follows run.cancelled", async () => {
    pointHook = async (ref, step, _attempt, at) => {
      if (step !== "save" || at !== 0) return;
      // What generation.cancel does, landing while the save step runs (no api/cancel reaches the engine here).
      const run = await findRun(db.db, ref.runId);
      if (!run) throw new Error("run missing");
      await new RunReporter(deps, { projectId: run.projectId, messageId: run.messageId, runId: run.id }).finish({
        status: "cancelled",
        reason: "Cancelled by the user",
      });
    };
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Cancelled while saving");
    const message = await insertUserMessage(db.db, project.id, "A shop API with items (name)");
    const failure = nextFinishedRun(executor, "genstream-generate-api-failure");
    executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
    await failure;
    const events = await streaming.retained(project.id);
    const terminal = events.map((e) => e.event.type).filter((t) => t === "run.completed" || t === "run.failed" || t === "run.cancelled");
    expect(terminal).toEqual(["run.cancelled"]);
    const runId = events[0]?.event.runId ?? "";
    expect(await findRun(db.db, runId)).toMatchObject({ status: "cancelled", reason: "Cancelled by the user" });
    expect(await latestArtifact(db.db, project.id)).toBeNull();
    expect(await findRunOutput(db.db, runId)).toBeNull();
    const replies = (await listMessages(db.db, project.id)).filter((m) => m.role === "assistant");
    expect(replies.map((m) => m.content)).toEqual([cancelledReply("Cancelled by the user")]);
  });

  it("a run cancelled in the engine (its dashboard, DELETE /v1/runs/{id}) is stored cancelled and every tab gets run.cancelled", async () => {
    pointHook = async (ref, step, _attempt, at) => {
      // The engine takes the cancel mid-step and stops the run at the step's end, as Inngest does.
      if (step === "generate-code" && at === 0) expect(executor.cancelRun(ref.runId)).toBe(true);
    };
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Cancelled in the engine");
    const message = await insertUserMessage(db.db, project.id, "A shop API with items (name)");
    const handled = nextFinishedRun(executor, "genstream-generate-api-cancelled");
    executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
    const handler = await handled;
    expect(handler).toMatchObject({ status: "Completed", output: { finishedNow: true, status: "cancelled" } });
    const events = await streaming.retained(project.id);
    const runId = events[0]?.event.runId ?? "";
    expect(executor.getRun(runId)?.status).toBe("Cancelled");
    const terminal = events
      .map((e) => e.event)
      .filter((e) => e.type === "run.completed" || e.type === "run.failed" || e.type === "run.cancelled");
    expect(terminal).toMatchObject([{ type: "run.cancelled", reason: ENGINE_CANCELLED_REASON }]);
    expect(await findRun(db.db, runId)).toMatchObject({ status: "cancelled", reason: ENGINE_CANCELLED_REASON });
    const replies = (await listMessages(db.db, project.id)).filter((m) => m.role === "assistant");
    expect(replies.map((m) => m.content)).toEqual([cancelledReply(ENGINE_CANCELLED_REASON)]);
  });

  it("the engine's function.cancelled for a run the app had cancelled itself changes nothing", async () => {
    pointHook = async (ref, step, _attempt, at) => {
      if (step !== "generate-code" || at !== 0) return;
      // generation.cancel: stored and published by the app, then the engine is told (api/cancel → cancelOn).
      const run = await findRun(db.db, ref.runId);
      if (!run) throw new Error("run missing");
      await new RunReporter(deps, { projectId: run.projectId, messageId: run.messageId, runId: run.id }).finish({
        status: "cancelled",
        reason: "Cancelled by the user",
      });
      executor.cancelRun(ref.runId);
    };
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Cancelled by the user, then the engine");
    const message = await insertUserMessage(db.db, project.id, "A shop API with items (name)");
    const handled = nextFinishedRun(executor, "genstream-generate-api-cancelled");
    executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
    expect(await handled).toMatchObject({ status: "Completed", output: { finishedNow: false, status: "cancelled" } });
    const events = await streaming.retained(project.id);
    const runId = events[0]?.event.runId ?? "";
    expect(events.filter((e) => e.event.type === "run.cancelled")).toMatchObject([{ event: { reason: "Cancelled by the user" } }]);
    expect(await findRun(db.db, runId)).toMatchObject({ status: "cancelled", reason: "Cancelled by the user" });
  });

  describe("with a language model configured (LLM_BASE_URL)", () => {
    const TODO = "I need a REST API for a todo app where users have lists and each list has tasks with a due date and a done flag";
    const canned = JSON.stringify(CANNED_TODO_PLAN);

    async function withModel<T>(body: (server: Awaited<ReturnType<typeof startFakeModelServer>>) => Promise<T>): Promise<T> {
      const server = await startFakeModelServer({ tokenRate: 0 });
      deps.model = modelConfigFromEnv({
        LLM_BASE_URL: server.baseUrl,
        LLM_API_KEY: undefined,
        LLM_MODEL: "fake-model",
        LLM_TIMEOUT_MS: 5_000,
        LLM_STREAM_FLUSH_MS: 50,
      });
      try {
        return await body(server);
      } finally {
        deps.model = undefined;
        await server.close();
      }
    }

    /** The plan step's stored text deltas of one run, per attempt (key `<runId>:plan:text:<attempt>:<seq>`). */
    function planTexts(runId: string): Map<number, { offset: number; text: string }[]> {
      const byAttempt = new Map<number, { offset: number; text: string }[]>();
      for (const { key, event, stored } of published) {
        const match = new RegExp(`^${runId}:plan:text:(\\d+):\\d+$`).exec(key);
        if (!match || !stored || event.type !== "step.text") continue;
        const attempt = Number(match[1]);
        expect(event.attempt).toBe(attempt);
        byAttempt.set(attempt, [...(byAttempt.get(attempt) ?? []), { offset: event.offset, text: event.text }]);
      }
      return byAttempt;
    }

    /** The deltas must tile the text: each starts where the previous ended. */
    function joined(deltas: { offset: number; text: string }[] | undefined): string {
      let text = "";
      for (const d of deltas ?? []) {
        expect(d.offset).toBe(text.length);
        text += d.text;
      }
      return text;
    }

    it("plans a free-form description with the model, its text reaching the log as it grows, and builds that API", async () => {
      await withModel(async (server) => {
        const { project, view } = await run(TODO, "Todo");
        expect(view.status).toBe("Completed");
        expect(server.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
        const artifact = await latestArtifact(db.db, project.id);
        expect(artifact?.plan).toMatchObject({ title: CANNED_TODO_PLAN.title, version: 1 });
        const deltas = planTexts(view.runId).get(0) ?? [];
        // Coalesced: far fewer events than the server's tokens, and together exactly the model's answer.
        expect(deltas.length).toBeGreaterThan(0);
        expect(deltas.length).toBeLessThan(canned.length / 4);
        expect(JSON.parse(joined(deltas))).toEqual(CANNED_TODO_PLAN);
      });
    });

    it("a stream cut mid-way is retried: the second attempt's text is published under its own keys and is the whole answer", async () => {
      await withModel(async (server) => {
        server.script({ kind: "cut", content: canned, afterTokens: 30 }, { kind: "stream", content: canned });
        const { view } = await run(TODO, "Todo retried");
        expect(view.status).toBe("Completed");
        const texts = planTexts(view.runId);
        expect([...texts.keys()]).toEqual([0, 1]);
        const first = joined(texts.get(0));
        expect(first.length).toBeGreaterThan(0);
        expect(canned.startsWith(first)).toBe(true);
        expect(first).not.toBe(canned);
        expect(joined(texts.get(1))).toBe(canned);
      });
    });

    it("a cancel while the model writes aborts the model's request: the run stays cancelled, with no text after it", async () => {
      await withModel(async (server) => {
        // The model writes 20 tokens, then stalls: only an abort can end this request before the token timeout.
        server.script({ kind: "stall", content: canned, afterTokens: 20 });
        const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Cancelled while planning");
        const message = await insertUserMessage(db.db, project.id, TODO);
        const firstText = new Promise<string>((resolve) => {
          void streaming.follow(project.id, ({ event }) => {
            if (event.type === "step.text") resolve(event.runId);
          });
        });
        const failure = nextFinishedRun(executor, "genstream-generate-api-failure");
        executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
        const runId = await firstText;
        const aborted = server.nextAbort();
        // What generation.cancel stores and publishes (the engine's cancelOn is not part of this test).
        await new RunReporter(deps, { projectId: project.id, messageId: message.id, runId }).finish({
          status: "cancelled",
          reason: "Cancelled by the user",
        });
        const request = await aborted;
        expect(request).toMatchObject({ aborted: true, completed: false });
        await failure;
        expect(server.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
        const events = (await streaming.retained(project.id)).map((e) => e.event);
        const cancelledAt = events.findIndex((e) => e.type === "run.cancelled");
        expect(cancelledAt).toBeGreaterThan(0);
        expect(events.slice(cancelledAt + 1)).toEqual([]);
        expect(await findRun(db.db, runId)).toMatchObject({ status: "cancelled", reason: "Cancelled by the user" });
        expect(await latestArtifact(db.db, project.id)).toBeNull();
      });
    });

    it("a rejected API key fails the run at once with a reason naming LLM_API_KEY", async () => {
      await withModel(async (server) => {
        server.script({ kind: "status", status: 401, message: "Incorrect API key provided" });
        const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Bad key");
        const message = await insertUserMessage(db.db, project.id, TODO);
        const failure = nextFinishedRun(executor, "genstream-generate-api-failure");
        executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
        await failure;
        const events = await streaming.retained(project.id);
        const failed = events.map((e) => e.event).find((e) => e.type === "run.failed");
        expect(failed?.type === "run.failed" ? failed.reason : "").toContain("LLM_API_KEY");
        // Non-retriable: the model was asked once.
        expect(server.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
      });
    });
  });
});
