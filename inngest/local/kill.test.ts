import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { serve } from "inngest/node";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LogTap, type LogLine } from "../../e2e/support/log-tap";
import { dropSchemas } from "../../src/test/schemas";
import { freePort } from "../../src/test/ports";
import { TEST_DATABASE_URL } from "../../src/test/services";
import { AppServer, testClient, type TestInngest } from "./test-support";
import type { RunView } from "./types";

/**
 * kill -9 of the executor process (`inngest/local/main.ts`, as `npm start` runs it) at many points
 * of a run, then a new one on the same store: every run ends as it would have without the crash.
 * The app is in this process (a stock client and serve()), so it sees every call the executor makes.
 */
const schemas: string[] = [];
afterAll(() => dropSchemas(TEST_DATABASE_URL, schemas));

const children: ChildProcess[] = [];
let app: AppServer | undefined;
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await app?.stop().catch(() => undefined);
  app = undefined;
});

interface Executor {
  child: ChildProcess;
  log: LogTap;
}

async function startExecutor(env: NodeJS.ProcessEnv): Promise<Executor> {
  const child = spawn(process.execPath, ["--import", "tsx", "inngest/local/main.ts"], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const log = new LogTap(child, "executor");
  await log.waitForMsg("local executor listening");
  return { child, log };
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** What the app saw, per run: executions of each step (and their attempts), and the effects they committed. */
class Probe {
  readonly executions = new Map<string, number[]>();
  /** Committed once per run and step, as saveRunArtifact is (a retried save finds what it stored). */
  readonly effects = new Map<string, number>();
  active = 0;
  maxActive = 0;
  flakyFailed = new Set<string>();
  /** Set by a test: called as a step begins; may kill the executor and keep the call in flight. */
  onEnter: (step: string, attempt: number) => Promise<void> = () => Promise.resolve();
  /** Set by a test: called as the function's code passes a point (on every call that replays it). */
  onReach: (point: string) => Promise<void> = () => Promise.resolve();

  async step(runId: string, step: string, attempt: number, value: number): Promise<number> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const key = `${runId}:${step}`;
    this.executions.set(key, [...(this.executions.get(key) ?? []), attempt]);
    try {
      await this.onEnter(step, attempt);
      if (step === "flaky" && !this.flakyFailed.has(runId)) {
        this.flakyFailed.add(runId);
        throw new Error("flaky fails its first execution");
      }
      if (!this.effects.has(key)) this.effects.set(key, value);
      return this.effects.get(key) ?? value;
    } finally {
      this.active--;
    }
  }

  ran(runId: string, step: string): number[] {
    return this.executions.get(`${runId}:${step}`) ?? [];
  }
}

function defineJob(inngest: TestInngest, probe: Probe) {
  return inngest.createFunction(
    { id: "job", triggers: [{ event: "t/job" }], retries: 3, concurrency: [{ key: "event.data.key", limit: 1 }] },
    async ({ step, runId, attempt }) => {
      const a = await step.run("a", () => probe.step(runId, "a", attempt, 1));
      const b = await step.run("b", () => probe.step(runId, "b", attempt, 2));
      await probe.onReach("after-b");
      await step.sleep("nap", "1s");
      const c = await step.run("flaky", () => probe.step(runId, "flaky", attempt, 3));
      return a + b + c;
    },
  );
}

interface KillPoint {
  name: string;
  /** Two runs of the same concurrency key (the second queued behind the first). */
  runs: 1 | 2;
  /** Resolves when the executor is to be killed (it may already be dead). */
  at(executor: Executor, probe: Probe, kill: () => Promise<void>): Promise<void>;
  /** Steps of the first run that must have executed exactly once (they completed before the kill). */
  once: string[];
}

const onLog =
  (msg: string, fields: LogLine = {}) =>
  async (executor: Executor): Promise<void> => {
    await executor.log.waitForMsg(msg, fields);
  };

const points: KillPoint[] = [
  { name: "after the run started, before a step ran", runs: 1, at: onLog("run started"), once: [] },
  {
    name: "inside a step (the call is in flight)",
    runs: 1,
    once: ["a"],
    at: (_executor, probe, killNow) =>
      new Promise<void>((resolve) => {
        probe.onEnter = async (step, attempt) => {
          if (step !== "b" || attempt !== 0) return;
          await killNow();
          resolve();
          await new Promise<never>(() => undefined); // the answer never reaches anyone
        };
      }),
  },
  // The log line comes before the answer is stored: b may run again, a may not.
  { name: "as a step's answer arrives", runs: 1, at: onLog("step ran", { step: "b" }), once: ["a"] },
  {
    // The next call carries b's memoized output, and the record is stored before every call.
    name: "between steps (the next call sent)",
    runs: 1,
    once: ["a", "b"],
    at: (_executor, probe, killNow) =>
      new Promise<void>((resolve) => {
        let killed = false;
        probe.onReach = async (point) => {
          if (point !== "after-b" || killed) return;
          killed = true;
          await killNow();
          resolve();
          await new Promise<never>(() => undefined);
        };
      }),
  },
  { name: "during step.sleep", runs: 1, at: onLog("step sleeping"), once: ["a", "b"] },
  { name: "during a retry's wait", runs: 1, at: onLog("retry scheduled"), once: ["a", "b"] },
  { name: "with a second run of the same key queued", runs: 2, at: onLog("run waiting for a concurrency slot"), once: [] },
];

/** The executor's store: a schema of PostgreSQL (every point), or its own PGlite directory (a kill -9 leaves it to recover). */
type StoreKind = "postgres" | "pglite";
const cases: (KillPoint & { store: StoreKind })[] = [
  ...points.map((p) => ({ ...p, store: "postgres" as const })),
  ...points
    .filter((p) => p.name.startsWith("inside") || p.name.startsWith("during step.sleep"))
    .map((p) => ({ ...p, store: "pglite" as const })),
];

function storeEnv(store: StoreKind): Record<string, string> {
  if (store === "pglite") return { GENSTREAM_EXECUTOR_PGLITE_DIR: mkdtempSync(path.join(tmpdir(), "engine-kill-")) };
  const schema = `engine_kill_${randomBytes(6).toString("hex")}`;
  schemas.push(schema);
  return { DATABASE_URL: TEST_DATABASE_URL, GENSTREAM_EXECUTOR_SCHEMA: schema };
}

describe("kill -9 of the executor process", () => {
  it.each(cases)(
    "$store, $name: every run completes as without the crash",
    async (point) => {
      const probe = new Probe();
      app = await AppServer.start();
      const port = await freePort();
      const executorUrl = `http://127.0.0.1:${port}`;
      const inngest = testClient(executorUrl);
      app.setHandler(serve({ client: inngest, functions: [defineJob(inngest, probe)] }));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: "test",
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
        GENSTREAM_EXECUTOR_PORT: String(port),
        GENSTREAM_APP_URL: app.url,
        ...storeEnv(point.store),
        INNGEST_DEV: executorUrl,
      };
      delete env.INNGEST_SIGNING_KEY;
      delete env.INNGEST_EVENT_KEY;
      delete env.GENSTREAM_EXECUTOR_STORE;
      if (point.store === "pglite") delete env.DATABASE_URL;

      const first = await startExecutor(env);
      const killed = point.at(first, probe, () => kill(first.child));
      await inngest.send({ name: "t/job", data: { key: "k" } });
      if (point.runs === 2) await inngest.send({ name: "t/job", data: { key: "k" } });
      await killed;
      await kill(first.child);

      const second = await startExecutor(env);
      await second.log.waitForMsg("resuming unfinished runs after a restart");
      const res = await fetch(`${executorUrl}/v1/runs?functionId=test-app-job`);
      const { data: listed } = (await res.json()) as { data: RunView[] };
      expect(listed).toHaveLength(point.runs);
      for (const { runId } of listed) await second.log.waitForMsg("run finished", { runId });
      // Genstream's own list carries the step timeline (GET /v1/runs/{id} answers Inngest's shape).
      const after = await fetch(`${executorUrl}/v1/runs?functionId=test-app-job`);
      const { data: runs } = (await after.json()) as { data: RunView[] };
      expect(runs).toHaveLength(point.runs);
      for (const run of runs) {
        expect(run.status).toBe("Completed");
        expect(run.output).toBe(6);
        expect(run.timeline.map((s) => [s.name, s.status])).toEqual([
          ["a", "Completed"],
          ["b", "Completed"],
          ["nap", "Completed"],
          ["flaky", "Completed"],
        ]);
        for (const step of ["a", "b", "flaky"]) expect(probe.effects.get(`${run.runId}:${step}`)).toBe({ a: 1, b: 2, flaky: 3 }[step]);
        // flaky fails once by design; every other step ran once, or once more only if the kill was inside it.
        expect(probe.ran(run.runId, "flaky").length).toBeGreaterThanOrEqual(2);
      }
      const firstRun = [...runs].sort((x, y) => x.queuedAt.localeCompare(y.queuedAt))[0];
      if (!firstRun) throw new Error("no run");
      for (const step of point.once) expect(probe.ran(firstRun.runId, step), step).toHaveLength(1);
      if (point.name.startsWith("inside")) expect(probe.ran(firstRun.runId, "b")).toEqual([0, 1]);
      if (point.runs === 2) {
        // Never two steps of one key at a time, across the crash (the slot is free while a run sleeps).
        expect(probe.maxActive).toBe(1);
      }
      // Two executor starts; a PGlite store's first one runs initdb (several seconds on a loaded 2-core machine).
    },
    90_000,
  );
});
