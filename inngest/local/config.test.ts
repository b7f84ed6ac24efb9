import { describe, expect, it } from "vitest";
import { translateFunction } from "./config";

const base = {
  id: "app-fn",
  name: "fn",
  triggers: [{ event: "t/x" }],
  steps: {
    step: { id: "step", name: "step", runtime: { type: "http", url: "http://127.0.0.1:3000/api/inngest?fnId=app-fn&stepId=step" } },
  },
};

describe("function config", () => {
  it("gives 5 attempts by default and retries.attempts + 1 otherwise", () => {
    const byDefault = translateFunction(base, "app");
    expect(byDefault.ok && byDefault.fn.maxAttempts).toBe(5);
    const none = translateFunction({ ...base, steps: { step: { ...base.steps.step, retries: { attempts: 0 } } } }, "app");
    expect(none.ok && none.fn.maxAttempts).toBe(1);
  });

  it("reads concurrency as a number, an object or an array", () => {
    const n = translateFunction({ ...base, concurrency: 2 }, "app");
    expect(n.ok && n.fn.concurrency.map((c) => [c.limit, c.scope, c.key?.source])).toEqual([[2, "fn", undefined]]);
    const list = translateFunction({ ...base, concurrency: [{ key: "event.data.p", limit: 1 }, { limit: 0 }] }, "app");
    expect(list.ok && list.fn.concurrency.map((c) => [c.limit, c.scope, c.key?.source])).toEqual([[1, "fn", "event.data.p"]]);
  });

  it("refuses unknown options, websocket runtimes and unreadable cancel timeouts", () => {
    const result = translateFunction(
      {
        ...base,
        shiny: true,
        steps: { step: { ...base.steps.step, runtime: { type: "ws", url: "x" } } },
        cancel: [{ event: "t/c", timeout: "forever" }],
      },
      "app",
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.refused.reasons).toEqual([
      'unknown option "shiny"',
      'runtime "ws" is not supported (http only)',
      'cancelOn timeout "forever" is not a duration',
    ]);
  });
});
