import { describe, expect, it } from "vitest";
import { healthProblems, healthSchema, type HealthSummary } from "./health-summary";

const allUp: HealthSummary = {
  status: "ok",
  database: { ok: true },
  jobEngine: { ok: true, kind: "local-executor" },
  eventLog: { ok: true, kind: "memory" },
  model: { configured: true, reachable: true, url: "http://localhost:11434/v1" },
};

describe("healthProblems", () => {
  it("has nothing to say when everything is up, or when no model is configured", () => {
    expect(healthProblems(allUp)).toEqual([]);
    expect(healthProblems({ ...allUp, model: { configured: false, reachable: false } })).toEqual([]);
    expect(healthProblems({ ...allUp, model: undefined })).toEqual([]); // a server from before the model was reported
  });

  it("says a configured model is not reachable, naming where, while health is ok", () => {
    expect(healthProblems({ ...allUp, model: { configured: true, reachable: false, url: "http://localhost:11434/v1" } })).toEqual([
      "the language model at http://localhost:11434/v1 is not reachable — generations retry it, and fail if it stays down",
    ]);
    expect(
      healthProblems({ ...allUp, model: { configured: true, reachable: false, url: "https://api.example.com/v1", status: 503 } }),
    ).toEqual(["the language model at https://api.example.com/v1 is not reachable — generations retry it, and fail if it stays down"]);
  });

  it.each([401, 403])("says the model refuses its API key on %i: that does not get better by retrying", (status) => {
    expect(healthProblems({ ...allUp, model: { configured: true, reachable: false, url: "https://api.example.com/v1", status } })).toEqual([
      "the language model at https://api.example.com/v1 refuses its API key (check LLM_API_KEY) — generations fail until that is fixed",
    ]);
  });

  it("lists every problem, the model's last", () => {
    const problems = healthProblems({
      status: "degraded",
      database: { ok: false },
      jobEngine: { ok: false, kind: "inngest-dev-server" },
      eventLog: { ok: false, kind: "redis" },
      model: { configured: true, reachable: false },
    });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe("the database is unreachable");
    expect(problems[1]).toMatch(/^the job engine \(inngest-dev-server\) is unreachable/);
    expect(problems[2]).toMatch(/^live progress is degraded/);
    expect(problems[3]).toBe("the language model is not reachable — generations retry it, and fail if it stays down");
  });

  it("rejects an answer that is not a health report", () => {
    expect(healthSchema.safeParse({ status: "ok" }).success).toBe(false);
    expect(healthSchema.safeParse({ ...allUp, model: { configured: "yes" } }).success).toBe(false);
  });
});
