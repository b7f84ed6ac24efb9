import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { deferred, nextEvent, onlyRun, send, startHarness, trackDiscoveryOverlap, type Harness } from "./test-support";

const sha1 = (s: string): string => createHash("sha1").update(s).digest("hex");

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("steps", () => {
  it("runs each step once and memoizes its result", async () => {
    const count = { a: 0, b: 0, c: 0 };
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "seq", triggers: [{ event: "t/seq" }] }, async ({ step, event }) => {
        const a = await step.run("a", () => ++count.a + Number(event.data.base));
        const b = await step.run("b", () => {
          count.b++;
          return a * 10;
        });
        const c = await step.run("c", () => {
          count.c++;
          return { a, b };
        });
        return c;
      }),
    ]);
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/seq", { base: 1 }));
    expect(run.status).toBe("Completed");
    expect(run.output).toEqual({ a: 2, b: 20 });
    expect(count).toEqual({ a: 1, b: 1, c: 1 });
    expect(run.timeline.map((s) => [s.name, s.id, s.status, s.attempts])).toEqual([
      ["a", sha1("a"), "Completed", 1],
      ["b", sha1("b"), "Completed", 1],
      ["c", sha1("c"), "Completed", 1],
    ]);
  });

  it("runs parallel steps concurrently, each once, with one discovery call at a time", async () => {
    const count = { p: 0, q: 0, after: 0 };
    const pStarted = deferred();
    const qStarted = deferred();
    const discoveredAfterP = deferred();
    const qMemoized = deferred();
    let pDone = false;
    let heldDiscovery = false;
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "par", triggers: [{ event: "t/par" }] }, async ({ step }) => {
        // The handler runs on every call; this is the discovery after p finished. It stays in
        // flight until q's result reaches the executor, which must not start another discovery.
        if (pDone && !heldDiscovery) {
          heldDiscovery = true;
          discoveredAfterP.resolve();
          await qMemoized.promise;
        }
        // p and q each wait for the other to start: only concurrent execution completes them.
        // q also outlives that discovery, which must not run q a second time.
        const results = await Promise.all([
          step.run("p", async () => {
            count.p++;
            pStarted.resolve();
            await qStarted.promise;
            pDone = true;
            return "p";
          }),
          step.run("q", async () => {
            count.q++;
            qStarted.resolve();
            await pStarted.promise;
            await discoveredAfterP.promise;
            return "q";
          }),
        ]);
        await step.run("after", () => count.after++);
        return results;
      }),
    ]);
    const discoveryOverlap = trackDiscoveryOverlap(harness.executor);
    harness.executor.on("step", ({ step }) => {
      if (step.name === "q" && step.status === "Completed") qMemoized.resolve();
    });
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/par"));
    expect(run.status).toBe("Completed");
    expect(run.output).toEqual(["p", "q"]);
    expect(count).toEqual({ p: 1, q: 1, after: 1 });
    expect(run.timeline.map((s) => [s.name, s.attempts])).toEqual([
      ["p", 1],
      ["q", 1],
      ["after", 1],
    ]);
    expect(discoveryOverlap.get(run.runId)).toBe(1);
  });

  it("step.sleep really waits for its duration", async () => {
    const at: Record<string, number> = {};
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "sleepy", triggers: [{ event: "t/sleep" }] }, async ({ step }) => {
        await step.run("before", () => {
          at.before = Date.now();
        });
        // The SDK rounds sleeps under 1 s up to "1s", so 1 s is the shortest real sleep.
        await step.sleep("nap", "1s");
        await step.run("after", () => {
          at.after = Date.now();
        });
      }),
    ]);
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/sleep"));
    expect(run.status).toBe("Completed");
    expect((at.after ?? 0) - (at.before ?? Infinity)).toBeGreaterThanOrEqual(1_000);
    const nap = run.timeline.find((s) => s.name === "nap");
    expect(nap).toMatchObject({ op: "Sleep", status: "Completed", id: sha1("nap") });
  });

  it("step.waitForEvent resumes with the matching event, or null on timeout", async () => {
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "approval", triggers: [{ event: "t/order" }] }, async ({ step }) => {
        const approved = await step.waitForEvent("approved", { event: "t/approved", match: "data.orderId", timeout: "1m" });
        const second = await step.waitForEvent("second", { event: "t/never", timeout: "1s" });
        return { by: approved?.data.by ?? null, second };
      }),
    ]);
    const { executor, inngest } = harness;
    const waiting = nextEvent(executor, "step", ({ step }) => step.name === "approved" && step.status === "Waiting");
    const eventId = await send(inngest, "t/order", { orderId: "o1" });
    await waiting;
    await executor.eventOutcome(await send(inngest, "t/approved", { orderId: "o2", by: "someone else" }));
    await send(inngest, "t/approved", { orderId: "o1", by: "ada" });
    const run = await onlyRun(executor, eventId);
    expect(run.status).toBe("Completed");
    expect(run.output).toEqual({ by: "ada", second: null });
  });
});
