import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseServerEnv } from "../lib/env";
import { EngineRunsUnavailableError, engineRunsApi, engineRunsTarget } from "./engine-runs";

/** A local server speaking Inngest's documented runs API (`GET /v1/runs/{runId}` → `{ data: { run_id, status, … } }`). */
describe("engineRunsApi against an Inngest-shaped runs API", () => {
  let server: Server;
  let baseUrl: string;
  const seen: IncomingMessage[] = [];
  const answers = new Map<string, { status: number; body: string }>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      // Runs by id; an event's runs (`GET /v1/events/{id}/runs`) under "event:<id>".
      const event = /^\/v1\/events\/([^/]+)\/runs$/.exec(req.url ?? "");
      const key = event ? `event:${decodeURIComponent(event[1]!)}` : decodeURIComponent(req.url?.replace(/^\/v1\/runs\//, "") ?? "");
      const answer = answers.get(key) ?? { status: 404, body: JSON.stringify({ error: "not found" }) };
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("a run the engine has: known, with Inngest's status; the signing key goes as bearer", async () => {
    answers.set("01RUN", {
      status: 200,
      body: JSON.stringify({ data: { run_id: "01RUN", status: "Running", run_started_at: "2026-12-01T00:00:00Z", event_id: "e" } }),
    });
    const api = engineRunsApi({ baseUrl, signingKey: "signkey-test-abc" });
    await expect(api.lookup("01RUN")).resolves.toEqual({ kind: "known", status: "Running" });
    expect(seen.at(-1)?.headers.authorization).toBe("Bearer signkey-test-abc");
  });

  it("404: the engine does not know the run; without a key no authorization header is sent", async () => {
    const api = engineRunsApi({ baseUrl: `${baseUrl}/` });
    await expect(api.lookup("no/such run")).resolves.toEqual({ kind: "unknown" });
    expect(seen.at(-1)?.url).toBe("/v1/runs/no%2Fsuch%20run");
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("an event's runs: known with how many it started (none yet: queued), 404 unknown, an error status cannot tell", async () => {
    answers.set("event:01EVQ", { status: 200, body: JSON.stringify({ data: [] }) });
    answers.set("event:01EVS", { status: 200, body: JSON.stringify({ data: [{ run_id: "01RUN", status: "Running" }] }) });
    answers.set("event:01EVD", { status: 502, body: "{}" });
    answers.set("event:01EVO", { status: 200, body: JSON.stringify({ data: { run_id: "x" } }) });
    const api = engineRunsApi({ baseUrl, signingKey: "signkey-test-abc" });
    await expect(api.eventRuns("01EVQ")).resolves.toEqual({ kind: "known", runs: 0 });
    await expect(api.eventRuns("01EVS")).resolves.toEqual({ kind: "known", runs: 1 });
    expect(seen.at(-1)?.url).toBe("/v1/events/01EVS/runs");
    expect(seen.at(-1)?.headers.authorization).toBe("Bearer signkey-test-abc");
    await expect(api.eventRuns("01EVGONE")).resolves.toEqual({ kind: "unknown" });
    await expect(api.eventRuns("01EVD")).rejects.toMatchObject({ message: "The job engine answered 502 for event 01EVD", scope: "engine" });
    await expect(api.eventRuns("01EVO")).rejects.toThrow("is not in Inngest's shape");
  });

  it("an error status, an answer without a status, or no answer at all: the engine cannot tell", async () => {
    answers.set("down", { status: 503, body: "{}" });
    answers.set("refused", { status: 401, body: "{}" });
    answers.set("malformed", { status: 400, body: JSON.stringify({ error: "run id must be a ULID" }) });
    answers.set("odd", { status: 200, body: JSON.stringify({ data: { run_id: "odd" } }) });
    answers.set("html", { status: 200, body: "<html>hello</html>" });
    const api = engineRunsApi({ baseUrl });
    await expect(api.lookup("down")).rejects.toMatchObject({ message: "The job engine answered 503 for run down", scope: "engine" });
    await expect(api.lookup("refused")).rejects.toMatchObject({ scope: "engine" });
    // A refusal of this one id says nothing about the others.
    await expect(api.lookup("malformed")).rejects.toMatchObject({ message: "The job engine answered 400 for run malformed", scope: "run" });
    await expect(api.lookup("odd")).rejects.toThrow("is not in Inngest's shape");
    await expect(api.lookup("html")).rejects.toThrow("is not in Inngest's shape");
    // A port nobody listens on (this server's, once closed, is not guaranteed free: use a fresh one).
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(engineRunsApi({ baseUrl: `http://127.0.0.1:${port}` }).lookup("x")).rejects.toBeInstanceOf(EngineRunsUnavailableError);
  });
});

describe("engineRunsTarget", () => {
  const key = `signkey-prod-${"ab".repeat(32)}`;
  it("dev mode asks the dev server or the embedded executor; cloud asks Inngest's API or INNGEST_BASE_URL, with the signing key", () => {
    expect(engineRunsTarget(parseServerEnv({}))).toEqual({ baseUrl: "http://127.0.0.1:8288", signingKey: undefined });
    expect(engineRunsTarget(parseServerEnv({ INNGEST_DEV: "http://127.0.0.1:9999" }))).toEqual({
      baseUrl: "http://127.0.0.1:9999",
      signingKey: undefined,
    });
    expect(engineRunsTarget(parseServerEnv({ INNGEST_SIGNING_KEY: key, INNGEST_EVENT_KEY: "k" }))).toEqual({
      baseUrl: "https://api.inngest.com",
      signingKey: key,
    });
    expect(engineRunsTarget(parseServerEnv({ INNGEST_SIGNING_KEY: key, INNGEST_BASE_URL: "http://inngest.internal:8288" }))).toEqual({
      baseUrl: "http://inngest.internal:8288",
      signingKey: key,
    });
  });
});
