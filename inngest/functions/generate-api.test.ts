import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { serve } from "inngest/node";
import { createGenerateApi } from "./generate-api";
import { inngest } from "../client";
import type { ReporterDeps } from "../run-reporter";
import { AppServer, fastBackoff, nextFinishedRun } from "../local/test-support";
import { LocalExecutor } from "../local/executor";
import { openDb, type DbHandle } from "../../src/db/client";
import { createProject } from "../../src/db/queries/projects";
import { insertUserMessage, listMessages } from "../../src/db/queries/messages";
import { findRun } from "../../src/db/queries/runs";
import { latestArtifact } from "../../src/db/queries/artifacts";
import { insertTestUser } from "../../src/test/users";
import { MemoryEventLog, StreamingService } from "../../src/streaming";
import { CONVERSATION } from "../../src/generation/testing/fixtures";
import { STEP_NAMES, type ProgressEvent } from "../../src/streaming/protocol";

/**
 * The generation function, run for real: the stock client's `serve` handler on node:http, driven by
 * the embedded executor, writing to an in-memory PGlite and publishing into a real streaming service.
 * `faults` lets a test make a publish throw, the way a failing dependency would inside a step.
 */
describe("generate-api function", () => {
  let db: DbHandle;
  let streaming: StreamingService;
  let app: AppServer;
  let executor: LocalExecutor;
  const faults = new Map<string, number>();
  const published: { key: string; event: ProgressEvent; stored: boolean }[] = [];
  /** Content-Length of every call the executor made to the app. */
  const requestBytes: number[] = [];

  beforeAll(async () => {
    db = await openDb({ kind: "pglite", dir: null });
    streaming = new StreamingService({ log: new MemoryEventLog(), logger: pino({ level: "silent" }) });
    const deps: ReporterDeps = {
      db: db.db,
      log: pino({ level: "silent" }),
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
      },
    };
    app = await AppServer.start();
    const handler = serve({ client: inngest, functions: [createGenerateApi(async () => deps)] });
    app.setHandler((req, res) => {
      if (req.method === "POST") requestBytes.push(Number(req.headers["content-length"] ?? Number.NaN));
      void handler(req, res);
    });
    executor = new LocalExecutor({ appUrl: app.url, port: 0, backoff: fastBackoff });
    await executor.start();
    await executor.waitForSync();
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
    const sequence = events.map((e) => (e.event.type.startsWith("step.") && "step" in e.event ? `${e.event.type}:${e.event.step}` : e.event.type));
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
    const codeProgress = published.filter((p) => p.event.type === "step.progress" && p.event.runId === view.runId && p.event.step === "generate-code");
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
    for (const content of ["A bookstore API with books (title, price:number) and authors (name)", "add reviews (rating:int 1..5, body) to books"]) {
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

  it("MEASURE", async () => {
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "Conversation");
    requestBytes.length = 0;
    for (const content of CONVERSATION) {
      const message = await insertUserMessage(db.db, project.id, content);
      const finished = nextFinishedRun(executor, "genstream-generate-api");
      executor.ingest([{ name: "api/iterate", data: { projectId: project.id, messageId: message.id } }]);
      expect((await finished).status).toBe("Completed");
    }
    console.log("MAXBYTES", Math.max(...requestBytes), requestBytes.length);
  });
});
