import { describe, expect, it } from "vitest";
import { CallTimeoutError, CircuitBreaker, CircuitOpenError, type CircuitState } from "./circuit-breaker";

function setup(timeoutMs = 1_000) {
  let now = 1_000;
  const changes: CircuitState[] = [];
  const breaker = new CircuitBreaker({
    dependency: "redis",
    failureThreshold: 3,
    resetAfterMs: 5_000,
    timeoutMs,
    now: () => now,
    onStateChange: (s) => changes.push(s),
  });
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

const fail = () => Promise.reject(new Error("ECONNREFUSED"));
const ok = () => Promise.resolve("ok");

describe("CircuitBreaker", () => {
  it("passes calls through while closed and resets the failure count on success", async () => {
    const { breaker } = setup();
    await expect(breaker.run(fail)).rejects.toThrow("ECONNREFUSED");
    await expect(breaker.run(fail)).rejects.toThrow("ECONNREFUSED");
    await expect(breaker.run(ok)).resolves.toBe("ok");
    await expect(breaker.run(fail)).rejects.toThrow("ECONNREFUSED");
    expect(breaker.state).toBe("closed");
  });

  it("opens after consecutive failures and then fails fast without calling", async () => {
    const { breaker, changes } = setup();
    for (let i = 0; i < 3; i++) await expect(breaker.run(fail)).rejects.toThrow("ECONNREFUSED");
    expect(breaker.state).toBe("open");
    let called = false;
    const error = await breaker
      .run(async () => {
        called = true;
        return "x";
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).message).toContain("redis is unavailable");
    expect(called).toBe(false);
    expect(changes).toEqual(["open"]);
  });

  it("lets one trial through after the reset period: success closes, failure re-opens", async () => {
    const { breaker, changes, advance } = setup();
    for (let i = 0; i < 3; i++) await expect(breaker.run(fail)).rejects.toThrow();
    advance(5_000);
    expect(breaker.state).toBe("half-open");
    await expect(breaker.run(fail)).rejects.toThrow("ECONNREFUSED");
    expect(breaker.state).toBe("open");
    advance(5_000);
    await expect(breaker.run(ok)).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
    expect(changes).toEqual(["open", "closed"]);
  });

  it("bounds each call with a timeout that counts as a failure", async () => {
    const { breaker } = setup(20);
    const never = () => new Promise<string>(() => undefined);
    await expect(breaker.run(never)).rejects.toBeInstanceOf(CallTimeoutError);
  });
});
