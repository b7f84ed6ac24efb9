import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudTestClient, deferred, onlyRun, send, startHarness, type Deferred, type Harness } from "../test-support";

/**
 * The REST API against a real app and executor, signed as in production: Inngest's shapes, the
 * signing key as bearer token, and a clear 400 for every malformed input.
 */
const KEY = "signkey-test-0123456789abcdef0123456789abcdef";
let harness: Harness;
let gate: Deferred;
let entered: Deferred;

beforeAll(async () => {
  gate = deferred();
  entered = deferred();
  harness = await startHarness(
    (inngest) => [
      inngest.createFunction({ id: "echo", triggers: [{ event: "t/echo" }] }, async ({ step, event }) => {
        return await step.run("echo", () => event.data);
      }),
      inngest.createFunction({ id: "held", triggers: [{ event: "t/held" }] }, async ({ step }) => {
        await step.run("wait", () => {
          entered.resolve();
          return gate.promise.then(() => "released");
        });
        return await step.run("after", () => "not reached");
      }),
    ],
    { signingKey: KEY, client: (url) => cloudTestClient(url, KEY) },
  );
});
afterAll(async () => {
  gate.resolve();
  await harness.close();
});

const auth = { authorization: `Bearer ${KEY}` };

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${harness.executor.url}${path}`, { ...init, headers: { ...auth, ...init.headers } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("REST API v1", () => {
  it("refuses requests without the signing key when the executor has one", async () => {
    for (const path of ["/v1/runs", "/v1/events", "/v1/runs/01JAAAAAAAAAAAAAAAAAAAAAAA"]) {
      const res = await fetch(`${harness.executor.url}${path}`);
      expect(res.status, path).toBe(401);
      const wrong = await fetch(`${harness.executor.url}${path}`, { headers: { authorization: "Bearer signkey-test-nope" } });
      expect(wrong.status, path).toBe(401);
    }
    // Event ingestion and health stay as Inngest's dev server has them.
    expect((await fetch(`${harness.executor.url}/health`)).status).toBe(200);
  });

  it("lists events newest first with Inngest's fields, pages by cursor and filters by name", async () => {
    const first = await send(harness.inngest, "t/echo", { n: 1 });
    const second = await send(harness.inngest, "t/echo", { n: 2 });
    await onlyRun(harness.executor, second);
    const page = await call("/v1/events?name=t/echo&limit=1");
    expect(page.status).toBe(200);
    expect(page.json.data).toEqual([
      {
        internal_id: second,
        received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        id: second,
        name: "t/echo",
        data: { n: 2 },
        ts: expect.any(Number),
      },
    ]);
    const next = await call(`/v1/events?name=t/echo&limit=1&cursor=${second}`);
    expect((next.json.data as { internal_id: string }[]).map((e) => e.internal_id)).toEqual([first]);
    const one = await call(`/v1/events/${first}`);
    expect(one.json.data).toMatchObject({ internal_id: first, name: "t/echo", data: { n: 1 } });
  });

  it("answers a run in Inngest's shape, and its event's runs", async () => {
    const eventId = await send(harness.inngest, "t/echo", { hello: "world" });
    const run = await onlyRun(harness.executor, eventId);
    const one = await call(`/v1/runs/${run.runId}`);
    expect(one.json.data).toEqual({
      run_id: run.runId,
      function_id: "test-app-echo",
      status: "Completed",
      event_id: eventId,
      run_started_at: run.startedAt,
      ended_at: run.endedAt,
      output: { hello: "world" },
    });
    const runs = await call(`/v1/events/${eventId}/runs`);
    expect(runs.json.data).toEqual([one.json.data]);
  });

  it("cancels a running run with DELETE, and says 409 once it has ended", async () => {
    const eventId = await send(harness.inngest, "t/held");
    await entered.promise;
    const listed = (await call(`/v1/events/${eventId}/runs`)).json.data as { run_id: string; status: string }[];
    expect(listed).toMatchObject([{ status: "Running" }]);
    const runId = listed[0]?.run_id ?? "";
    const finished = harness.executor.waitForRun(runId);
    const cancelled = await call(`/v1/runs/${runId}`, { method: "DELETE" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.data).toMatchObject({ run_id: runId, status: "Running" });
    gate.resolve();
    expect((await finished).status).toBe("Cancelled");
    expect((await call(`/v1/runs/${runId}`)).json.data).toMatchObject({ status: "Cancelled", output: null });
    const again = await call(`/v1/runs/${runId}`, { method: "DELETE" });
    expect(again.status).toBe(409);
    expect(String(again.json.error)).toContain("already ended (Cancelled)");
  });

  it.each([
    ["/v1/events?limit=0", 400, "limit"],
    ["/v1/events?limit=500", 400, "limit"],
    ["/v1/events?cursor=abc", 400, "cursor"],
    ["/v1/events?received_after=tuesday", 400, "received_after"],
    ["/v1/events?offset=3", 400, "offset"],
    ["/v1/events/nope", 400, "ULID"],
    ["/v1/events/nope/runs", 400, "ULID"],
    ["/v1/events/01JAAAAAAAAAAAAAAAAAAAAAAA", 404, "no event"],
    ["/v1/events/01JAAAAAAAAAAAAAAAAAAAAAAA/runs", 404, "no event"],
    ["/v1/runs/01JAAAAAAAAAAAAAAAAAAAAAAA", 404, "no run"],
    ["/v1/runs/%E0%A4%A", 400, "malformed URL"],
  ])("GET %s answers %i naming the problem", async (path, status, words) => {
    const res = await call(path);
    expect(res.status).toBe(status);
    expect(String(res.json.error)).toContain(words);
  });
});
