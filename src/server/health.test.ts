import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../db/client";
import { modelConfigFromEnv } from "../generation/model/config";
import { ModelHealth } from "../generation/model/health";
import { healthProblems, healthSchema } from "../client/health-summary";
import { parseServerEnv } from "../lib/env";
import { MemoryEventLog, StreamingService } from "../streaming";
import { openTestDb } from "../test/databases";
import { startFakeModelServer, type FakeModelServer } from "../test/fake-model-server";
import { healthReport } from "./health";

/**
 * /api/health with the language model in each of its states: the model is reported, and health
 * stays "ok" whatever it answers (the database, the job engine and the event log are up here).
 */
let db: DbHandle;
let streaming: StreamingService;
let jobEngine: http.Server;
let jobEngineUrl: string;
let model: FakeModelServer;

beforeAll(async () => {
  db = await openTestDb({ kind: "pglite", dir: null });
  streaming = new StreamingService({ log: new MemoryEventLog(), logger: pino({ level: "silent" }) });
  // Stands in for the Inngest dev server: health only asks it GET /health.
  jobEngine = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok" }));
  });
  jobEngine.listen(0, "127.0.0.1");
  await once(jobEngine, "listening");
  jobEngineUrl = `http://127.0.0.1:${(jobEngine.address() as AddressInfo).port}`;
  model = await startFakeModelServer();
});

afterAll(async () => {
  await model.close();
  jobEngine.close();
  await streaming.shutdown();
  await db.close();
});

function services(llm: Record<string, string>) {
  const config = parseServerEnv({ NODE_ENV: "test", INNGEST_DEV: jobEngineUrl, ...llm });
  return { config, db, streaming, modelHealth: new ModelHealth(modelConfigFromEnv(config)) };
}

describe("healthReport and the language model", () => {
  it("reports no model configured (the embedded grammar plans), and is ok", async () => {
    const report = await healthReport(services({}));
    expect(report.status).toBe("ok");
    expect(report.model).toEqual({ configured: false, reachable: false, latencyMs: null });
    expect(healthProblems(healthSchema.parse(report))).toEqual([]);
  });

  it("reports a configured, reachable model with its latency, and is ok", async () => {
    const report = await healthReport(services({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: "fake-model", LLM_API_KEY: "sk-test" }));
    expect(report.status).toBe("ok");
    expect(report.model).toMatchObject({ configured: true, reachable: true, url: model.baseUrl, model: "fake-model" });
    expect(report.model.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.model.error).toBeUndefined();
    expect(JSON.stringify(report)).not.toContain("sk-test");
    expect(healthProblems(healthSchema.parse(report))).toEqual([]);
  });

  it("reports a model endpoint that is down (connection refused) with the reason, and is ok", async () => {
    const down = await startFakeModelServer();
    await down.close();
    const report = await healthReport(services({ LLM_BASE_URL: down.baseUrl, LLM_MODEL: "fake-model" }));
    expect(report.status).toBe("ok");
    expect(report.model).toMatchObject({ configured: true, reachable: false, url: down.baseUrl });
    expect(report.model.error).toMatch(/ECONNREFUSED/);
    // The banner reads the same answer: it names the model and says what happens to generations.
    expect(healthProblems(healthSchema.parse(report))).toEqual([
      `the language model at ${down.baseUrl} is not reachable — generations retry it, and fail if it stays down`,
    ]);
  });

  it.each([
    [500, /HTTP 500/],
    [401, /HTTP 401 \(check LLM_API_KEY\)/],
  ])("reports a model endpoint answering %i with the reason, and is ok", async (status, error) => {
    model.setModelsAnswer({ kind: "status", status, message: "no" });
    try {
      const report = await healthReport(services({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: "fake-model" }));
      expect(report.status).toBe("ok");
      expect(report.model).toMatchObject({ configured: true, reachable: false, status });
      expect(report.model.error).toMatch(error);
      expect(healthProblems(healthSchema.parse(report))).toEqual([
        status === 401
          ? `the language model at ${model.baseUrl} refuses its API key (check LLM_API_KEY) — generations fail until that is fixed`
          : `the language model at ${model.baseUrl} is not reachable — generations retry it, and fail if it stays down`,
      ]);
    } finally {
      model.setModelsAnswer({ kind: "list" });
    }
  });

  it("reports a model endpoint that does not answer within the probe's timeout, and is ok", async () => {
    model.setModelsAnswer({ kind: "stall" });
    try {
      const s = services({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: "fake-model" });
      const report = await healthReport({ ...s, modelHealth: new ModelHealth(modelConfigFromEnv(s.config), { timeoutMs: 200 }) });
      expect(report.status).toBe("ok");
      expect(report.model).toMatchObject({ configured: true, reachable: false, error: "no answer within 200 ms" });
    } finally {
      model.setModelsAnswer({ kind: "list" });
    }
  });
});
