import { serve } from "inngest/node";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/test/ports";
import { LocalExecutor } from "./executor";
import { AppServer, fastBackoff, nextEvent, onlyRun, send, startHarness, testClient, type Harness } from "./test-support";

let harness: Harness | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("sync", () => {
  it("refuses functions using options it does not support, loudly", async () => {
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "fine", triggers: [{ event: "t/fine" }] }, async () => "ok"),
      inngest.createFunction(
        { id: "throttled", triggers: [{ event: "t/throttled" }], throttle: { limit: 1, period: "1s" } },
        async () => "x",
      ),
      inngest.createFunction({ id: "limited", triggers: [{ event: "t/x" }], rateLimit: { limit: 1, period: "1m" } }, async () => "x"),
      inngest.createFunction({ id: "debounced", triggers: [{ event: "t/x" }], debounce: { period: "5s" } }, async () => "x"),
      inngest.createFunction({ id: "batched", triggers: [{ event: "t/x" }], batchEvents: { maxSize: 2, timeout: "5s" } }, async () => "x"),
      inngest.createFunction({ id: "prioritised", triggers: [{ event: "t/x" }], priority: { run: "event.data.p" } }, async () => "x"),
      inngest.createFunction({ id: "single", triggers: [{ event: "t/x" }], singleton: { mode: "skip" } }, async () => "x"),
      inngest.createFunction({ id: "cron", triggers: [{ cron: "* * * * *" }] }, async () => "x"),
      inngest.createFunction({ id: "fancy-if", triggers: [{ event: "t/x", if: "event.data.tags.exists(t, t == 'a')" }] }, async () => "x"),
    ]);
    const { executor, inngest } = harness;
    const result = await executor.waitForSync();
    expect(result.ok).toBe(false);
    expect(result.functions).toEqual(["test-app-fine"]);
    const reasons = Object.fromEntries(result.refused.map((r) => [r.id, r.reasons.join("; ")]));
    expect(reasons).toEqual({
      "test-app-throttled": "throttle is not supported by the local executor",
      "test-app-limited": "rateLimit is not supported by the local executor",
      "test-app-debounced": "debounce is not supported by the local executor",
      "test-app-batched": "batchEvents is not supported by the local executor",
      "test-app-prioritised": "priority is not supported by the local executor",
      "test-app-single": "singleton is not supported by the local executor",
      "test-app-cron": 'cron trigger "* * * * *" is not supported by the local executor',
      "test-app-fancy-if": expect.stringContaining("function calls are not supported"),
    });
    const health = executor.health();
    expect(health).toMatchObject({ synced: false, functions: 1 });
    expect(health.syncError).toContain('function "test-app-throttled" refused');

    const outcome = await executor.eventOutcome(await send(inngest, "t/throttled"));
    expect(outcome.runIds).toEqual([]);
    expect(outcome.skipped).toEqual([
      { functionId: "test-app-throttled", reason: "refused at sync: throttle is not supported by the local executor" },
    ]);
    expect((await onlyRun(executor, await send(inngest, "t/fine"))).output).toBe("ok");
  });

  it("keeps syncing with backoff until an app that starts later answers", async () => {
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}/api/inngest`;
    const executor = new LocalExecutor({ appUrl, port: 0, backoff: fastBackoff });
    const failed = nextEvent(executor, "sync:failed");
    const executorUrl = await executor.start();
    cleanups.push(() => executor.stop());
    const [{ error }] = await failed;
    expect(error).toContain("app unreachable");
    expect(executor.health().synced).toBe(false);

    const app = await AppServer.start(port);
    cleanups.push(() => app.stop());
    const inngest = testClient(executorUrl);
    app.setHandler(
      serve({
        client: inngest,
        functions: [inngest.createFunction({ id: "late", triggers: [{ event: "t/late" }] }, async () => "made it")],
      }),
    );
    const result = await executor.waitForSync();
    expect(result).toMatchObject({ ok: true, functions: ["test-app-late"] });
    expect(executor.health()).toMatchObject({ synced: true, functions: 1, syncError: null });
    expect((await onlyRun(executor, await send(inngest, "t/late"))).output).toBe("made it");
  });

  it("resyncs when an event arrives that no known function listens to", async () => {
    harness = await startHarness((inngest) => [inngest.createFunction({ id: "old", triggers: [{ event: "t/old" }] }, async () => "old")], {
      resyncMinIntervalMs: 0,
    });
    harness.reload((inngest) => [
      inngest.createFunction({ id: "old", triggers: [{ event: "t/old" }] }, async () => "old"),
      inngest.createFunction({ id: "new", triggers: [{ event: "t/new" }] }, async () => "hot reloaded"),
    ]);
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/new"));
    expect(run.functionId).toBe("test-app-new");
    expect(run.output).toBe("hot reloaded");
  });

  it("resyncs when the app answers unknown fnId, and fails runs of a function that is gone", async () => {
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "doomed", triggers: [{ event: "t/doomed" }] }, async () => "never"),
      inngest.createFunction({ id: "other", triggers: [{ event: "t/other" }] }, async () => "other"),
    ]);
    harness.reload((inngest) => [inngest.createFunction({ id: "other", triggers: [{ event: "t/other" }] }, async () => "other")]);
    const synced = nextEvent(harness.executor, "sync");
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/doomed"));
    await synced;
    expect(run.status).toBe("Failed");
    expect(run.error?.message).toBe('function "test-app-doomed" is no longer registered');
    expect(harness.executor.health().functions).toBe(1);
  });

  it("accepts out-of-band registration on POST /fn/register", async () => {
    harness = await startHarness(
      (inngest) => [inngest.createFunction({ id: "oob", triggers: [{ event: "t/oob" }] }, async () => "registered")],
      { syncOnStart: false, waitForSync: false },
    );
    expect(harness.executor.health().functions).toBe(0);
    // A plain PUT makes the SDK register itself with its Inngest (our executor) out of band.
    const res = await fetch(harness.app.url, { method: "PUT" });
    expect(res.status).toBe(200);
    expect(harness.executor.health()).toMatchObject({ synced: true, functions: 1 });
    expect((await onlyRun(harness.executor, await send(harness.inngest, "t/oob"))).output).toBe("registered");
  });
});
