import type { Inngest } from "inngest";
import { afterEach, describe, expect, it } from "vitest";
import { deferred, nextEvent, onlyRun, send, startHarness, type Harness } from "./test-support";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/**
 * Two-step jobs that record overlap. The job with `role: "first"` blocks in its first step
 * until `release` resolves; the `"second"` job resolves it from its own first step. So the
 * first job can only finish early if the second runs at the same time.
 */
function overlapProbe(withConcurrency: boolean) {
  let active = 0;
  const probe = {
    maxActive: 0,
    log: [] as string[],
    firstEntered: deferred(),
    release: deferred<void>(),
  };
  const enter = async (label: string, body: () => Promise<void> | void): Promise<void> => {
    active++;
    probe.maxActive = Math.max(probe.maxActive, active);
    probe.log.push(`${label}:start`);
    await body();
    probe.log.push(`${label}:end`);
    active--;
  };
  const define = (inngest: Inngest) => [
    inngest.createFunction(
      {
        id: "job",
        triggers: [{ event: "t/job" }],
        ...(withConcurrency ? { concurrency: [{ key: "event.data.projectId", limit: 1 }] } : {}),
      },
      async ({ step, event }) => {
        const role = String(event.data.role);
        await step.run("one", () =>
          enter(`${role}.one`, async () => {
            if (role === "first") {
              probe.firstEntered.resolve();
              await probe.release.promise;
            } else {
              probe.release.resolve();
            }
          }),
        );
        await step.run("two", () => enter(`${role}.two`, () => undefined));
      },
    ),
  ];
  return { probe, define };
}

describe("concurrency keys", () => {
  it("never lets two runs with the same key execute steps at the same time", async () => {
    const { probe, define } = overlapProbe(true);
    harness = await startHarness(define);
    const { executor, inngest } = harness;
    const first = await send(inngest, "t/job", { projectId: "p1", role: "first" });
    await probe.firstEntered.promise;
    const queued = nextEvent(executor, "run:queued");
    const second = await send(inngest, "t/job", { projectId: "p1", role: "second" });
    const [queuedRun] = await queued;
    const [secondRunId] = (await executor.eventOutcome(second)).runIds;
    expect(queuedRun.runId).toBe(secondRunId);
    expect(executor.getRun(queuedRun.runId)?.status).toBe("Queued");
    expect(probe.log).toEqual(["first.one:start"]);
    probe.release.resolve(); // the second job cannot: it is queued
    const [a, b] = await Promise.all([onlyRun(executor, first), onlyRun(executor, second)]);
    expect([a.status, b.status]).toEqual(["Completed", "Completed"]);
    expect(probe.maxActive).toBe(1);
    expect(probe.log).toEqual([
      "first.one:start",
      "first.one:end",
      "first.two:start",
      "first.two:end",
      "second.one:start",
      "second.one:end",
      "second.two:start",
      "second.two:end",
    ]);
  });

  it("negative control: without the concurrency option the same runs overlap", async () => {
    const { probe, define } = overlapProbe(false);
    harness = await startHarness(define);
    const { executor, inngest } = harness;
    const first = await send(inngest, "t/job", { projectId: "p1", role: "first" });
    await probe.firstEntered.promise;
    const second = await send(inngest, "t/job", { projectId: "p1", role: "second" });
    const runs = await Promise.all([onlyRun(executor, first), onlyRun(executor, second)]);
    expect(runs.map((r) => r.status)).toEqual(["Completed", "Completed"]);
    expect(probe.maxActive).toBe(2);
  });

  it("runs with different keys execute concurrently", async () => {
    const { probe, define } = overlapProbe(true);
    harness = await startHarness(define);
    const { executor, inngest } = harness;
    const first = await send(inngest, "t/job", { projectId: "p1", role: "first" });
    await probe.firstEntered.promise;
    const second = await send(inngest, "t/job", { projectId: "p2", role: "second" });
    const runs = await Promise.all([onlyRun(executor, first), onlyRun(executor, second)]);
    expect(runs.map((r) => r.status)).toEqual(["Completed", "Completed"]);
    expect(probe.maxActive).toBe(2);
  });
});

describe("cancelOn", () => {
  it("stops a run at its next step boundary", async () => {
    const ran: string[] = [];
    const inFirst = deferred();
    const releaseFirst = deferred();
    harness = await startHarness((inngest) => [
      inngest.createFunction(
        { id: "cancellable", triggers: [{ event: "t/start" }], cancelOn: [{ event: "t/cancel", match: "data.jobId" }] },
        async ({ step }) => {
          await step.run("first", async () => {
            ran.push("first");
            inFirst.resolve();
            await releaseFirst.promise;
          });
          await step.run("second", () => ran.push("second"));
          await step.run("third", () => ran.push("third"));
        },
      ),
    ]);
    const { executor, inngest } = harness;
    const eventId = await send(inngest, "t/start", { jobId: "j1" });
    await inFirst.promise;
    await executor.eventOutcome(await send(inngest, "t/cancel", { jobId: "other" }));
    const [runId] = (await executor.eventOutcome(eventId)).runIds;
    expect(executor.getRun(runId ?? "")?.status).toBe("Running");
    await executor.eventOutcome(await send(inngest, "t/cancel", { jobId: "j1" }));
    releaseFirst.resolve();
    const run = await onlyRun(executor, eventId);
    expect(run.status).toBe("Cancelled");
    expect(ran).toEqual(["first"]);
    expect(run.timeline.map((s) => s.name)).toEqual(["first"]);
  });
});

describe("idempotency", () => {
  it("an event with a repeated idempotency key starts no run", async () => {
    let executions = 0;
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "once", triggers: [{ event: "t/msg" }], idempotency: "event.data.messageId" }, async ({ step }) => {
        await step.run("count", () => executions++);
      }),
    ]);
    const { executor, inngest } = harness;
    const first = await onlyRun(executor, await send(inngest, "t/msg", { messageId: "m1" }));
    const repeat = await executor.eventOutcome(await send(inngest, "t/msg", { messageId: "m1" }));
    const other = await onlyRun(executor, await send(inngest, "t/msg", { messageId: "m2" }));
    expect(first.status).toBe("Completed");
    expect(other.status).toBe("Completed");
    expect(repeat.runIds).toEqual([]);
    expect(repeat.skipped).toEqual([{ functionId: "test-app-once", reason: 'idempotency key "m1" already used' }]);
    expect(executions).toBe(2);
  });

  it("an event with a repeated id is deduplicated", async () => {
    let executions = 0;
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "dedupe", triggers: [{ event: "t/dup" }] }, async () => {
        executions++;
      }),
    ]);
    const { executor, inngest } = harness;
    await onlyRun(executor, await send(inngest, "t/dup", {}, "same-id"));
    const repeat = await executor.eventOutcome(await send(inngest, "t/dup", {}, "same-id"));
    expect(repeat.runIds).toEqual([]);
    expect(repeat.skipped[0]?.reason).toMatch(/duplicate event id/);
    expect(executions).toBe(1);
  });
});
