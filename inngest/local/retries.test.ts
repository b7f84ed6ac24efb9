import { NonRetriableError, type FailureEventArgs } from "inngest";
import { afterEach, describe, expect, it } from "vitest";
import { deferred, nextEvent, nextFinishedRun, onlyRun, send, startHarness, type Harness } from "./test-support";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("retries and failures", () => {
  it("retries a failing step with increasing attempt numbers", async () => {
    const attempts: number[] = [];
    let before = 0;
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "flaky", triggers: [{ event: "t/flaky" }] }, async ({ step, attempt }) => {
        await step.run("before", () => before++);
        return step.run("flaky", () => {
          attempts.push(attempt);
          if (attempt === 0) throw new Error("first attempt fails");
          return `ok on ${attempt}`;
        });
      }),
    ]);
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/flaky"));
    expect(run.status).toBe("Completed");
    expect(run.output).toBe("ok on 1");
    expect(attempts).toEqual([0, 1]);
    expect(before).toBe(1);
    expect(run.timeline.find((s) => s.name === "flaky")).toMatchObject({ status: "Completed", attempts: 2 });
  });

  it("retries an error thrown outside any step", async () => {
    const attempts: number[] = [];
    let stepRuns = 0;
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "outside", triggers: [{ event: "t/outside" }] }, async ({ step, attempt }) => {
        await step.run("once", () => stepRuns++);
        attempts.push(attempt);
        if (attempt === 0) throw new Error("outside a step");
        return "done";
      }),
    ]);
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/outside"));
    expect(run.status).toBe("Completed");
    expect(run.output).toBe("done");
    expect(stepRuns).toBe(1);
    expect(attempts).toEqual([0, 1]);
  });

  it("NonRetriableError fails the run after one attempt and triggers onFailure with the SDK payload", async () => {
    let attempts = 0;
    const failures: unknown[] = [];
    harness = await startHarness((inngest) => [
      inngest.createFunction(
        {
          id: "doomed",
          triggers: [{ event: "t/doomed" }],
          onFailure: async ({ event, error }: FailureEventArgs) => {
            failures.push({ event, errorName: error.name, errorMessage: error.message });
          },
        },
        async ({ step }) => {
          await step.run("nope", () => {
            attempts++;
            throw new NonRetriableError("not worth retrying");
          });
        },
      ),
    ]);
    const failureRun = nextFinishedRun(harness.executor, "test-app-doomed-failure");
    const eventId = await send(harness.inngest, "t/doomed", { orderId: 7 });
    const run = await onlyRun(harness.executor, eventId);
    expect(run.status).toBe("Failed");
    expect(run.error).toMatchObject({ name: "NonRetriableError", message: "not worth retrying" });
    expect(attempts).toBe(1);
    expect(run.timeline.find((s) => s.name === "nope")).toMatchObject({ status: "Failed", attempts: 1 });

    expect((await failureRun).status).toBe("Completed");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      errorName: "NonRetriableError",
      errorMessage: "not worth retrying",
      event: {
        name: "inngest/function.failed",
        data: {
          function_id: "test-app-doomed",
          run_id: run.runId,
          error: { name: "NonRetriableError", message: "not worth retrying" },
          event: { name: "t/doomed", data: { orderId: 7 } },
        },
      },
    });
  });

  it("an error on the last attempt fails the run and triggers onFailure", async () => {
    const attempts: number[] = [];
    const failures: string[] = [];
    harness = await startHarness((inngest) => [
      inngest.createFunction(
        {
          id: "exhausted",
          triggers: [{ event: "t/exhausted" }],
          retries: 2,
          onFailure: async ({ error, event }: FailureEventArgs) => {
            failures.push(`${event.data.run_id}: ${error.message}`);
          },
        },
        async ({ step, attempt }) => {
          await step.run("always", () => {
            attempts.push(attempt);
            throw new Error(`failed on attempt ${attempt}`);
          });
        },
      ),
    ]);
    const failureRun = nextFinishedRun(harness.executor, "test-app-exhausted-failure");
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/exhausted"));
    expect(run.status).toBe("Failed");
    expect(run.error?.message).toBe("failed on attempt 2");
    expect(attempts).toEqual([0, 1, 2]);
    await failureRun;
    expect(failures).toEqual([`${run.runId}: failed on attempt 2`]);
  });

  it("keeps a run going across an app restart without spending attempts", async () => {
    const attempts: number[] = [];
    const firstEntered = deferred();
    const releaseHungRequest = deferred();
    harness = await startHarness((inngest) => [
      inngest.createFunction({ id: "survivor", triggers: [{ event: "t/survive" }] }, async ({ step, attempt }) => {
        const value = await step.run("slow", async () => {
          attempts.push(attempt);
          if (attempts.length === 1) {
            firstEntered.resolve();
            // This request dies with the app; its late answer goes nowhere.
            await releaseHungRequest.promise;
          }
          return "survived";
        });
        return step.run("after", () => `${value} the restart`);
      }),
    ]);
    const { app, executor, inngest } = harness;
    const eventId = await send(inngest, "t/survive");
    await firstEntered.promise;
    const unreachable = nextEvent(executor, "app:unreachable");
    await app.stop();
    await unreachable;
    await app.restart();
    const run = await onlyRun(executor, eventId);
    releaseHungRequest.resolve();
    expect(run.status).toBe("Completed");
    expect(run.output).toBe("survived the restart");
    expect(attempts).toEqual([0, 0]);
  });
});
