import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probePort } from "./port-probe";
import { onlyRun, send, startHarness, type Harness } from "./test-support";
import type { RunView } from "./types";

const sha1 = (s: string): string => createHash("sha1").update(s).digest("hex");

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness((inngest) => [
    inngest.createFunction({ id: "two-steps", triggers: [{ event: "t/two" }] }, async ({ step, event }) => {
      const a = await step.run("first", () => `hello ${String(event.data.who)}`);
      const b = await step.run("second", () => a.length);
      return { a, b };
    }),
  ]);
});
afterAll(async () => {
  await harness.close();
});

async function post(path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${harness.executor.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function get(path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${harness.executor.url}${path}`);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("POST /e/:key", () => {
  it("accepts one event or an array, giving each a sortable id", async () => {
    const one = await post("/e/any-key", JSON.stringify({ name: "t/unheard", data: {} }));
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ status: 200, ids: [expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/)] });
    const many = await post(
      "/e/any-key",
      JSON.stringify([
        { name: "t/unheard", data: { n: 1 } },
        { name: "t/unheard", data: { n: 2 } },
      ]),
    );
    const ids = many.json.ids as string[];
    expect(ids).toHaveLength(2);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(2);
  });

  it.each([
    ["not JSON", "{name:", "body is not valid JSON"],
    ["an empty body", "", "body is not valid JSON (empty body)"],
    ["a missing name", JSON.stringify({ data: {} }), "event.name: Invalid input: expected string, received undefined"],
    ["a numeric name", JSON.stringify({ name: 5, data: {} }), "event.name: Invalid input: expected string, received number"],
    [
      "data that is an array",
      JSON.stringify([
        { name: "ok", data: {} },
        { name: "t/x", data: [1] },
      ]),
      "events[1].data: Invalid input: expected record, received array",
    ],
    [
      "a string ts",
      JSON.stringify({ name: "t/x", data: {}, ts: "yesterday" }),
      "event.ts: Invalid input: expected number, received string",
    ],
  ])("rejects %s with 400 and a readable error", async (_label, body, message) => {
    const res = await post("/e/key", body);
    expect(res.status).toBe(400);
    expect(String(res.json.error)).toContain(message);
  });

  it("surfaces the error through inngest.send()", async () => {
    await expect(harness.inngest.send({ name: "", data: {} })).rejects.toThrow(/invalid event: events\[0\]\.name/);
  });
});

describe("GET /v1/runs", () => {
  it("lists runs with status, event, output and the step timeline", async () => {
    const eventId = await send(harness.inngest, "t/two", { who: "ada" });
    const finished = await onlyRun(harness.executor, eventId);
    const list = await get("/v1/runs?functionId=test-app-two-steps");
    expect(list.status).toBe(200);
    const run = (list.json.data as RunView[]).find((r) => r.runId === finished.runId);
    expect(run).toMatchObject({
      runId: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      functionId: "test-app-two-steps",
      status: "Completed",
      eventId,
      event: { name: "t/two", data: { who: "ada" } },
      output: { a: "hello ada", b: 9 },
    });
    expect(run?.timeline).toEqual([
      expect.objectContaining({ id: sha1("first"), name: "first", status: "Completed", attempts: 1, output: "hello ada" }),
      expect.objectContaining({ id: sha1("second"), name: "second", status: "Completed", attempts: 1, output: 9 }),
    ]);
    for (const step of run?.timeline ?? []) expect(Date.parse(step.endedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(step.startedAt));

    // The one-run and per-event routes answer in Inngest's REST shape (rest/inngest-shapes.ts).
    const inngestRun = {
      run_id: finished.runId,
      function_id: "test-app-two-steps",
      status: "Completed",
      event_id: eventId,
      run_started_at: finished.startedAt,
      ended_at: finished.endedAt,
      output: { a: "hello ada", b: 9 },
    };
    const one = await get(`/v1/runs/${finished.runId}`);
    expect(one.json.data).toEqual(inngestRun);
    const byEvent = await get(`/v1/events/${eventId}/runs`);
    expect(byEvent.json.data).toEqual([inngestRun]);
  });

  it("answers 404 for an unknown run, 400 for a malformed id and for a bad filter", async () => {
    expect((await get("/v1/runs/01JAAAAAAAAAAAAAAAAAAAAAAA")).status).toBe(404);
    const malformed = await get("/v1/runs/NOPE");
    expect(malformed.status).toBe(400);
    expect(String(malformed.json.error)).toContain("ULID");
    const bad = await get("/v1/runs?status=Sleeping");
    expect(bad.status).toBe(400);
    expect(String(bad.json.error)).toContain("status");
  });
});

describe("GET /health", () => {
  it("identifies the executor and its sync state", async () => {
    const health = await get("/health");
    expect(health.json).toMatchObject({
      ok: true,
      kind: "genstream-local-executor",
      appUrl: harness.app.url,
      synced: true,
      functions: 1,
    });
  });

  it("lets the CLI tell our executor, another server and a free port apart", async () => {
    const port = Number(new URL(harness.executor.url).port);
    expect(await probePort("127.0.0.1", port)).toBe("ours");
    const other = createServer((_req, res) => res.writeHead(404).end("not here"));
    other.listen(0, "127.0.0.1");
    await once(other, "listening");
    const otherPort = (other.address() as AddressInfo).port;
    expect(await probePort("127.0.0.1", otherPort)).toBe("other");
    other.close();
    await once(other, "close");
    expect(await probePort("127.0.0.1", otherPort)).toBe("free");
  });
});
