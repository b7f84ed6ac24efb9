import { once } from "node:events";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from "../../test/fake-model-server";
import type { ModelConfig } from "./config";
import { ModelHealth } from "./health";

let server: FakeModelServer;
let config: ModelConfig;

beforeAll(async () => {
  server = await startFakeModelServer();
  config = { baseUrl: server.baseUrl, apiKey: "sk-test", model: "fake-model", tokenTimeoutMs: 5_000, flushMs: 50 };
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.setModelsAnswer({ kind: "list" });
});

/** A clock the test moves by hand. */
function clock(start = Date.parse("2025-01-01T00:00:00Z")) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const probes = () => server.requests.filter((r) => r.method === "GET" && r.path === "/v1/models").length;

describe("ModelHealth", () => {
  it("reports a model that is not configured without any request", async () => {
    const before = server.requests.length;
    expect(await new ModelHealth(null).report()).toEqual({ configured: false, reachable: false, latencyMs: null });
    expect(server.requests.length).toBe(before);
  });

  it("reports a reachable endpoint with its latency, URL, model and the time of the probe", async () => {
    const time = clock();
    const report = await new ModelHealth(config, { now: time.now }).report();
    expect(report).toEqual({
      configured: true,
      reachable: true,
      latencyMs: expect.any(Number),
      url: server.baseUrl,
      model: "fake-model",
      checkedAt: "2025-01-01T00:00:00.000Z",
    });
    expect(report.latencyMs).toBeGreaterThanOrEqual(0);
    expect(server.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/models" });
    expect(server.requests.at(-1)?.headers.authorization).toBe("Bearer sk-test");
  });

  it("reports an endpoint that is down (connection refused) as unreachable, with the reason", async () => {
    const closed = await startFakeModelServer();
    await closed.close();
    const report = await new ModelHealth({ ...config, baseUrl: closed.baseUrl }).report();
    expect(report).toMatchObject({ configured: true, reachable: false, url: closed.baseUrl, model: "fake-model" });
    expect(report.error).toMatch(/ECONNREFUSED/);
    expect(report.status).toBeUndefined();
  });

  it.each([
    [500, /HTTP 500$/],
    [503, /HTTP 503$/],
    [401, /HTTP 401 \(check LLM_API_KEY\)/],
    [403, /HTTP 403 \(check LLM_API_KEY\)/],
    [404, /HTTP 404 \(check LLM_BASE_URL/],
    [429, /HTTP 429$/],
  ])("reports GET /models answering %i as unreachable, with the status", async (status, error) => {
    server.setModelsAnswer({ kind: "status", status, message: "no" });
    const report = await new ModelHealth(config).report();
    expect(report).toMatchObject({ configured: true, reachable: false, status });
    expect(report.error).toMatch(error);
    expect(report.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("gives up on an endpoint that does not answer after its timeout, and closes the request", async () => {
    server.setModelsAnswer({ kind: "stall" });
    const aborted = server.nextAbort();
    const report = await new ModelHealth(config, { timeoutMs: 200 }).report();
    expect(report).toMatchObject({ configured: true, reachable: false, error: "no answer within 200 ms" });
    expect((await aborted).path).toBe("/v1/models");
  });

  it("never shows the credentials of a URL, in the URL or in the error", async () => {
    const withCredentials = { ...config, baseUrl: server.baseUrl.replace("http://", "http://user:hunter2@") };
    const report = await new ModelHealth(withCredentials).report();
    expect(report).toMatchObject({ configured: true, reachable: false, url: server.baseUrl });
    expect(report.error).toMatch(/credentials/); // fetch refuses such a URL…
    expect(JSON.stringify(report)).not.toContain("hunter2"); // …and quotes it: the report does not
  });

  it("probes at most once while a result is fresh, however many callers ask at once", async () => {
    const time = clock();
    const health = new ModelHealth(config, { now: time.now, freshMs: 10_000 });
    const before = probes();
    const reports = await Promise.all([health.report(), health.report(), health.report()]);
    expect(probes() - before).toBe(1);
    expect(new Set(reports).size).toBe(1);
    time.advance(9_999);
    await health.report();
    expect(probes() - before).toBe(1);
  });

  it("answers a stale result at once while the next probe runs, then reports what that probe found", async () => {
    const time = clock();
    const health = new ModelHealth(config, { now: time.now, freshMs: 10_000, maxStaleMs: 60_000 });
    expect((await health.report()).reachable).toBe(true);

    // The endpoint turns slow (it answers 503 once released): a stale result is answered without waiting.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    server.setModelsAnswer({ kind: "wait", until: released, answer: { kind: "status", status: 503, message: "overloaded" } });
    time.advance(10_000);
    const probed = once(server.events, "request") as Promise<[RecordedRequest]>;
    expect(await health.report()).toMatchObject({ reachable: true, checkedAt: "2025-01-01T00:00:00.000Z" });
    const [request] = await probed; // the refresh is on its way
    expect(request.path).toBe("/v1/models");
    // Another caller meanwhile neither waits nor sends a second probe.
    const before = probes();
    expect((await health.report()).reachable).toBe(true);
    expect(probes()).toBe(before);

    // Once the last result is maxStaleMs old, a caller waits for the probe in flight and gets its result.
    time.advance(50_000);
    const waiting = health.report();
    release();
    expect(await waiting).toMatchObject({ reachable: false, status: 503, checkedAt: "2025-01-01T00:00:10.000Z" });
    expect(probes()).toBe(before);
  });

  it("waits for a new probe when the last one is older than maxStaleMs", async () => {
    const time = clock();
    const health = new ModelHealth(config, { now: time.now, freshMs: 10_000, maxStaleMs: 60_000 });
    expect((await health.report()).reachable).toBe(true);
    server.setModelsAnswer({ kind: "status", status: 502, message: "bad gateway" });
    time.advance(60_000);
    expect(await health.report()).toMatchObject({ reachable: false, status: 502, checkedAt: "2025-01-01T00:01:00.000Z" });
  });

  it("aborts a probe in flight when closed", async () => {
    server.setModelsAnswer({ kind: "stall" });
    const health = new ModelHealth(config, { timeoutMs: 30_000 });
    const aborted = server.nextAbort();
    const report = health.report();
    await once(server.events, "request");
    health.close();
    expect((await aborted).path).toBe("/v1/models");
    expect(await report).toMatchObject({ configured: true, reachable: false });
  });
});
