import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dropSchemas } from "../../src/test/schemas";
import { TEST_DATABASE_URL } from "../../src/test/services";
import type { BackoffPolicy } from "./backoff";
import { LocalExecutor } from "./executor";
import { ENGINE_RESTARTED, newRunRecord } from "./run-state";
import { openEngineStore, type EngineStore } from "./store";
import {
  AppServer,
  deferred,
  fastBackoff,
  nextEvent,
  onlyRun,
  send,
  testClient,
  type DefineFunctions,
  type TestInngest,
} from "./test-support";
import type { RunView } from "./types";
import { serve } from "inngest/node";

/**
 * A restart of the executor in-process: the first executor stops (its runs halt where they are,
 * as on SIGTERM), a second one opens the same store on the same port and resumes. The kill -9
 * variants, at many more points, are in kill.test.ts.
 */
const schema = `engine_restart_${randomBytes(6).toString("hex")}`;
let store: EngineStore;
beforeAll(async () => {
  store = await openEngineStore({ kind: "postgres", url: TEST_DATABASE_URL, schema });
});
afterAll(async () => {
  await store.close();
  await dropSchemas(TEST_DATABASE_URL, [schema]);
});

/** The store of one test: what the previous test left must not resume here. */
async function emptyStore(): Promise<void> {
  const snapshot = await store.load();
  await store.deleteRuns(snapshot.runs.map((r) => r.runId));
  await store.deleteEvents(snapshot.events.map((e) => e.event.internalId));
}

interface Rig {
  app: AppServer;
  inngest: TestInngest;
  executor: LocalExecutor;
  /** Stops the executor and starts a new one on the same store and port. */
  restart(options?: { backoff?: BackoffPolicy; store?: EngineStore }): Promise<LocalExecutor>;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.executor.stop();
  await rig?.app.stop().catch(() => undefined);
  rig = undefined;
});

async function startRig(define: DefineFunctions, backoff: BackoffPolicy = fastBackoff, runStore: EngineStore = store): Promise<Rig> {
  await emptyStore();
  const app = await AppServer.start();
  const first = new LocalExecutor({ appUrl: app.url, port: 0, backoff, store: runStore });
  const url = await first.start();
  const port = Number(new URL(url).port);
  const inngest = testClient(url);
  app.setHandler(serve({ client: inngest, functions: define(inngest) }));
  await first.waitForSync();
  const r: Rig = {
    app,
    inngest,
    executor: first,
    restart: async (options = {}) => {
      await r.executor.stop();
      const next = new LocalExecutor({ appUrl: app.url, port, backoff: options.backoff ?? fastBackoff, store: options.store ?? runStore });
      r.executor = next;
      await next.start();
      return next;
    },
  };
  rig = r;
  return r;
}

function finished(executor: LocalExecutor, runId: string): Promise<RunView> {
  return executor.waitForRun(runId);
}

async function runIdOf(executor: LocalExecutor, eventId: string): Promise<string> {
  const outcome = await executor.eventOutcome(eventId);
  const runId = outcome.runIds[0];
  if (!runId) throw new Error(`event ${eventId} started no run`);
  return runId;
}

describe("a restarted executor resumes its runs from the store", () => {
  it("between steps: done steps stay done and are not run again", async () => {
    const ran: string[] = [];
    const gate = deferred();
    const r = await startRig((inngest) => [
      inngest.createFunction({ id: "three", triggers: [{ event: "t/three" }] }, async ({ step }) => {
        const a = await step.run("a", () => (ran.push("a"), 1));
        const b = await step.run("b", async () => {
          ran.push("b");
          await gate.promise;
          return 2;
        });
        const c = await step.run("c", () => (ran.push("c"), 3));
        return a + b + c;
      }),
    ]);
    const aDone = nextEvent(r.executor, "step", ({ step }) => step.name === "a" && step.status === "Completed");
    const eventId = await send(r.inngest, "t/three");
    const runId = await runIdOf(r.executor, eventId);
    await aDone;
    // b is held in the app; it answers only after the restart, to an executor that no longer waits.
    const next = await r.restart();
    expect(next.getRun(runId)?.status).toBe("Running");
    gate.resolve();
    const run = await finished(next, runId);
    expect(run.status).toBe("Completed");
    expect(run.output).toBe(6);
    expect(ran.filter((s) => s === "a")).toEqual(["a"]);
    expect(ran.filter((s) => s === "c")).toEqual(["c"]);
    expect(run.timeline.map((s) => [s.name, s.status])).toEqual([
      ["a", "Completed"],
      ["b", "Completed"],
      ["c", "Completed"],
    ]);
  });

  it("inside a step: the step runs again with its next attempt (the lost one counts)", async () => {
    const attempts: number[] = [];
    const entered = deferred();
    const r = await startRig((inngest) => [
      inngest.createFunction({ id: "held", triggers: [{ event: "t/held" }], retries: 2 }, async ({ step, attempt }) => {
        await step.run("first", () => "x");
        return step.run("held", async () => {
          attempts.push(attempt);
          if (attempt === 0) {
            entered.resolve();
            await new Promise<never>(() => undefined); // in flight until the executor is gone
          }
          return `attempt ${attempt}`;
        });
      }),
    ]);
    const eventId = await send(r.inngest, "t/held");
    const runId = await runIdOf(r.executor, eventId);
    await entered.promise;
    const next = await r.restart();
    const run = await finished(next, runId);
    expect(run).toMatchObject({ status: "Completed", output: "attempt 1" });
    // The SDK ran the step inside the discovery call that was lost: that call went again as attempt 1.
    expect(attempts).toEqual([0, 1]);
    expect(run.timeline.find((s) => s.name === "held")).toMatchObject({ status: "Completed" });
    expect(run.timeline.find((s) => s.name === "first")).toMatchObject({ status: "Completed", attempts: 1 });
  });

  it("inside a step on its last attempt: the step fails and the run fails, as Inngest would", async () => {
    const entered = deferred();
    const r = await startRig((inngest) => [
      inngest.createFunction({ id: "last", triggers: [{ event: "t/last" }], retries: 0 }, async ({ step }) => {
        return step.run("held", async () => {
          entered.resolve();
          await new Promise<never>(() => undefined);
        });
      }),
    ]);
    const eventId = await send(r.inngest, "t/last");
    const runId = await runIdOf(r.executor, eventId);
    await entered.promise;
    const next = await r.restart();
    const run = await finished(next, runId);
    expect(run.status).toBe("Failed");
    expect(run.error?.message).toBe(ENGINE_RESTARTED);
  });

  it("during a retry's wait: the retry keeps its due time", async () => {
    const attempts: number[] = [];
    const r = await startRig(
      (inngest) => [
        inngest.createFunction({ id: "flaky", triggers: [{ event: "t/flaky" }] }, async ({ step, attempt }) =>
          step.run("flaky", () => {
            attempts.push(attempt);
            if (attempt === 0) throw new Error("first attempt fails");
            return attempt;
          }),
        ),
      ],
      { ...fastBackoff, retry: () => 1_500 },
    );
    const retrying = nextEvent(r.executor, "step", ({ step }) => step.status === "Retrying");
    const eventId = await send(r.inngest, "t/flaky");
    const runId = await runIdOf(r.executor, eventId);
    await retrying;
    const scheduledAt = Date.now();
    const next = await r.restart();
    const run = await finished(next, runId);
    expect(run).toMatchObject({ status: "Completed", output: 1 });
    expect(attempts).toEqual([0, 1]);
    // Not sent at once on restart (fastBackoff would), nor waited for anew: the stored due time.
    expect(Date.now() - scheduledAt).toBeGreaterThanOrEqual(1_400);
  });

  it("during step.sleep: the sleep ends at its stored time and the run goes on", async () => {
    const ran: string[] = [];
    const r = await startRig((inngest) => [
      inngest.createFunction({ id: "sleepy", triggers: [{ event: "t/sleepy" }] }, async ({ step }) => {
        await step.run("before", () => ran.push("before"));
        await step.sleep("nap", "2s");
        await step.run("after", () => ran.push("after"));
        return "awake";
      }),
    ]);
    const sleeping = nextEvent(r.executor, "step", ({ step }) => step.status === "Sleeping");
    const eventId = await send(r.inngest, "t/sleepy");
    const runId = await runIdOf(r.executor, eventId);
    await sleeping;
    const sleptAt = Date.now();
    const next = await r.restart();
    expect(next.getRun(runId)?.timeline.find((s) => s.name === "nap")?.status).toBe("Sleeping");
    const run = await finished(next, runId);
    expect(run).toMatchObject({ status: "Completed", output: "awake" });
    expect(ran).toEqual(["before", "after"]);
    expect(Date.now() - sleptAt).toBeGreaterThanOrEqual(1_900);
  });

  it("with a second run of the same key queued: both complete, one at a time, in order", async () => {
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const firstEntered = deferred();
    const release = deferred();
    const r = await startRig((inngest) => [
      inngest.createFunction(
        { id: "job", triggers: [{ event: "t/job" }], concurrency: [{ key: "event.data.projectId", limit: 1 }] },
        async ({ step, event }) => {
          const role = String(event.data.role);
          await step.run("work", async () => {
            active++;
            maxActive = Math.max(maxActive, active);
            log.push(`${role}:start`);
            if (role === "first") {
              firstEntered.resolve();
              await release.promise;
            }
            log.push(`${role}:end`);
            active--;
          });
          return role;
        },
      ),
    ]);
    const first = await runIdOf(r.executor, await send(r.inngest, "t/job", { projectId: "p", role: "first" }));
    await firstEntered.promise;
    const queued = nextEvent(r.executor, "run:queued");
    const second = await runIdOf(r.executor, await send(r.inngest, "t/job", { projectId: "p", role: "second" }));
    await queued;
    const next = await r.restart();
    // The first run's lost attempt is retried while the old call is still held: release it only now.
    const [one, two] = await Promise.all([finished(next, first), finished(next, second), Promise.resolve(release.resolve())]);
    expect([one.status, two.status]).toEqual(["Completed", "Completed"]);
    expect(Date.parse(two.endedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(one.endedAt ?? ""));
    expect(log.filter((l) => l.startsWith("second"))).toEqual(["second:start", "second:end"]);
    // The second never ran beside the first (its retried attempt, or the lost one still held).
    expect(log.indexOf("second:start")).toBeGreaterThan(log.lastIndexOf("first:end"));
    expect(log.filter((l) => l === "first:end")).toHaveLength(2);
  });

  it("keeps event ids and idempotency keys: a resend after the restart starts no second run", async () => {
    let runs = 0;
    const r = await startRig((inngest) => [
      inngest.createFunction({ id: "once", triggers: [{ event: "t/once" }], idempotency: "event.data.key" }, async ({ step }) =>
        step.run("count", () => ++runs),
      ),
    ]);
    await onlyRun(r.executor, await send(r.inngest, "t/once", { key: "k1" }, "sender-1"));
    const next = await r.restart();
    await next.waitForSync();
    const sameId = await next.eventOutcome(await send(r.inngest, "t/once", { key: "k2" }, "sender-1"));
    expect(sameId.runIds).toEqual([]);
    expect(sameId.skipped[0]?.reason).toContain("duplicate event id");
    const sameKey = await next.eventOutcome(await send(r.inngest, "t/once", { key: "k1" }));
    expect(sameKey.runIds).toEqual([]);
    expect(sameKey.skipped[0]?.reason).toContain("idempotency key");
    expect(runs).toBe(1);
    // Finished runs are still listed after the restart.
    expect(next.listRuns({ functionId: "test-app-once" }).map((v) => v.status)).toEqual(["Completed"]);
  });

  it("an event stored but not processed before the crash is processed on start; one that had started its run gets no second", async () => {
    let runs = 0;
    const r = await startRig((inngest) => [
      inngest.createFunction({ id: "count", triggers: [{ event: "t/count" }] }, async ({ step }) => step.run("count", () => ++runs)),
    ]);
    await r.executor.stop();
    // The crash left two events without an outcome; the second had already started (and stored) its run.
    await store.saveEvent({
      internalId: "01JEVENTPENDING00000000001",
      id: "01JEVENTPENDING00000000001",
      name: "t/count",
      data: {},
      ts: Date.now(),
    });
    const started = {
      internalId: "01JEVENTPENDING00000000002",
      id: "01JEVENTPENDING00000000002",
      name: "t/count",
      data: {},
      ts: Date.now(),
    };
    await store.saveEvent(started);
    await store.saveRun({
      ...newRunRecord("01JRUNSTARTED0000000000001", "test-app-count", started, [], new Date()),
      status: { kind: "finished", status: "Completed", endedAt: new Date().toISOString(), output: 0 },
    });
    const next = await r.restart();
    const pending = await next.eventOutcome("01JEVENTPENDING00000000001");
    expect(pending.runIds).toHaveLength(1);
    await expect(onlyRun(next, "01JEVENTPENDING00000000001")).resolves.toMatchObject({ status: "Completed", output: 1 });
    expect((await next.eventOutcome(started.internalId)).runIds).toEqual(["01JRUNSTARTED0000000000001"]);
    expect(runs).toBe(1);
    // Both outcomes are stored now: a later start processes neither again.
    const snapshot = await store.load();
    expect(snapshot.events.every((e) => e.outcome !== null)).toBe(true);
  });

  it("a cancel after the restart cancels a resumed run", async () => {
    const r = await startRig((inngest) => [
      inngest.createFunction({ id: "long", triggers: [{ event: "t/long" }] }, async ({ step }) => {
        await step.sleep("long-nap", "1h");
        return "never";
      }),
    ]);
    const sleeping = nextEvent(r.executor, "step", ({ step }) => step.status === "Sleeping");
    const runId = await runIdOf(r.executor, await send(r.inngest, "t/long"));
    await sleeping;
    const next = await r.restart();
    await next.waitForSync();
    const resumed = nextEvent(next, "run:finished");
    await expect.poll(() => next.cancelRun(runId)).toBe(true);
    const [run] = await resumed;
    expect(run).toMatchObject({ runId, status: "Cancelled" });
  });

  it("a store that fails a write is caught up by the next: the run still completes and is stored finished", async () => {
    let failures = 1;
    const flaky: EngineStore = {
      ...store,
      kind: store.kind,
      load: () => store.load(),
      saveEvent: (e) => store.saveEvent(e),
      eventProcessed: (o) => store.eventProcessed(o),
      saveRun: (record) => (failures-- > 0 ? Promise.reject(new Error("store down")) : store.saveRun(record)),
      deleteRuns: (ids) => store.deleteRuns(ids),
      deleteEvents: (ids) => store.deleteEvents(ids),
      saveKey: (k) => store.saveKey(k),
      close: () => Promise.resolve(),
    };
    const r = await startRig(
      (inngest) => [inngest.createFunction({ id: "plain", triggers: [{ event: "t/plain" }] }, async ({ step }) => step.run("s", () => 5))],
      fastBackoff,
      flaky,
    );
    const run = await onlyRun(r.executor, await send(r.inngest, "t/plain"));
    expect(run).toMatchObject({ status: "Completed", output: 5 });
    expect(failures).toBeLessThan(0);
    await expect.poll(async () => (await store.load()).runs.find((x) => x.runId === run.runId)?.status.kind).toBe("finished");
  });
});
