import pino from "pino";
import { describe, expect, it } from "vitest";
import { CallTimeoutError, CircuitOpenError } from "../lib/circuit-breaker";
import { GuardedEventLog, isEventLogOutage, publishThroughOutage } from "./guarded-log";
import { MemoryEventLog } from "./memory-log";
import type { ProgressEvent } from "./protocol";
import { EventLogUnavailableError } from "./redis-client";
import { CapturedLog, progressEvent } from "./test-harness";
import type { EventLog } from "./types";

const silent = pino({ level: "silent" });

/** A memory log whose backing store can be taken down: "refuse" fails at once, "hang" never answers. */
class FlakyLog implements EventLog {
  readonly kind = "redis" as const;
  mode: "up" | "refuse" | "hang" = "up";
  calls = 0;
  private readonly inner = new MemoryEventLog();

  private gate(): Promise<void> {
    this.calls++;
    if (this.mode === "refuse") return Promise.reject(new EventLogUnavailableError("append", "p", new Error("ECONNREFUSED")));
    if (this.mode === "hang") return new Promise(() => undefined);
    return Promise.resolve();
  }
  async append(projectId: string, key: string, event: ProgressEvent) {
    await this.gate();
    return this.inner.append(projectId, key, event);
  }
  readAfter: EventLog["readAfter"] = (p, c) => this.inner.readAfter(p, c);
  head: EventLog["head"] = (p) => this.inner.head(p);
  subscribe: EventLog["subscribe"] = (p, l) => this.inner.subscribe(p, l);
  async ping() {
    await this.gate();
  }
  close = () => this.inner.close();
}

function setup(limits = { timeoutMs: 50, failureThreshold: 2, resetAfterMs: 1_000 }) {
  let now = 0;
  const flaky = new FlakyLog();
  const captured = new CapturedLog();
  const log = new GuardedEventLog(flaky, { logger: captured.logger, limits, now: () => now });
  return { flaky, log, captured, advance: (ms: number) => (now += ms) };
}

describe("GuardedEventLog", () => {
  it("passes appends, reads and the live tail through while the store is up", async () => {
    const { log } = setup();
    const seen: string[] = [];
    log.subscribe("p", (e) => seen.push(e.key));
    const logged = await log.append("p", "k1", progressEvent("p", 1));
    expect(logged?.key).toBe("k1");
    expect(await log.append("p", "k1", progressEvent("p", 1))).toBeNull();
    const read = await log.readAfter("p", (await log.readAfter("p", undefined)).head.replace(/:\d+$/, ":0"));
    expect(read.kind === "events" && read.events.map((e) => e.key)).toEqual(["k1"]);
    expect(seen).toEqual(["k1"]);
    expect(log.kind).toBe("redis");
    expect(log.breakerState).toBe("closed");
  });

  it("bounds an append that never answers by the publish timeout", async () => {
    const { flaky, log } = setup({ timeoutMs: 20, failureThreshold: 5, resetAfterMs: 1_000 });
    flaky.mode = "hang";
    await expect(log.append("p", "k", progressEvent("p", 1))).rejects.toBeInstanceOf(CallTimeoutError);
  });

  it("opens after consecutive failures, then fails fast without touching the store, and says so in the log", async () => {
    const { flaky, log, captured } = setup();
    flaky.mode = "refuse";
    for (let i = 0; i < 2; i++)
      await expect(log.append("p", `k${i}`, progressEvent("p", i))).rejects.toBeInstanceOf(EventLogUnavailableError);
    expect(log.breakerState).toBe("open");
    const callsWhenOpened = flaky.calls;
    await expect(log.append("p", "k9", progressEvent("p", 9))).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(log.ping()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(flaky.calls).toBe(callsWhenOpened);
    expect(captured.lines.filter((l) => l.msg === "event log circuit opened")).toHaveLength(1);
  });

  it("recovers by itself: after the reset time one trial call goes through and closes the circuit", async () => {
    const { flaky, log, advance, captured } = setup();
    flaky.mode = "refuse";
    for (let i = 0; i < 2; i++) await expect(log.append("p", `k${i}`, progressEvent("p", i))).rejects.toThrow();
    advance(1_000);
    expect(log.breakerState).toBe("half-open");
    // A failed trial re-opens it for another reset period.
    await expect(log.ping()).rejects.toBeInstanceOf(EventLogUnavailableError);
    expect(log.breakerState).toBe("open");
    flaky.mode = "up";
    await expect(log.append("p", "k2", progressEvent("p", 2))).rejects.toBeInstanceOf(CircuitOpenError);
    advance(1_000);
    // The health ping alone is enough to close it: no publish has to be sacrificed.
    await log.ping();
    expect(log.breakerState).toBe("closed");
    expect((await log.append("p", "k2", progressEvent("p", 2)))?.key).toBe("k2");
    expect(captured.lines.filter((l) => l.msg === "event log circuit closed")).toHaveLength(1);
  });
});

describe("publishThroughOutage", () => {
  it("retries an outage with capped backoff until the log answers", async () => {
    const delays: number[] = [];
    let failures = 3;
    const result = await publishThroughOutage(
      async () => {
        if (failures-- > 0) throw new CircuitOpenError("event log", 700);
        return "logged";
      },
      { logger: silent, context: {}, backoffBaseMs: 100, backoffCapMs: 500, backoffSleep: async (ms) => void delays.push(ms) },
    );
    expect(result).toBe("logged");
    expect(delays).toHaveLength(3);
    // The circuit's own retry time counts, but never beyond the cap.
    expect(delays.every((ms) => ms === 500)).toBe(true);
  });

  it("gives up after its budget with the outage error, so the job engine's retry takes over", async () => {
    let clock = 0;
    let calls = 0;
    const error = await publishThroughOutage(
      () => {
        calls++;
        return Promise.reject(new EventLogUnavailableError("append", "p", new Error("down")));
      },
      {
        logger: silent,
        context: {},
        budgetMs: 1_000,
        backoffBaseMs: 200,
        backoffCapMs: 200,
        random: () => 0.5,
        now: () => clock,
        backoffSleep: async (ms) => void (clock += ms),
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventLogUnavailableError);
    // Delays of 100 ms (the jitter pinned at the middle of 0..200 ms) within a 1 s budget: at least 6 tries, never past the budget.
    expect(calls).toBeGreaterThanOrEqual(6);
    expect(calls).toBeLessThanOrEqual(11);
    expect(clock).toBeLessThanOrEqual(1_000);
  });

  it("rethrows anything that is not an outage at once", async () => {
    let calls = 0;
    const bad = new Error("invalid event");
    await expect(
      publishThroughOutage(
        () => {
          calls++;
          return Promise.reject(bad);
        },
        { logger: silent, context: {}, backoffSleep: async () => undefined },
      ),
    ).rejects.toBe(bad);
    expect(calls).toBe(1);
    expect(isEventLogOutage(bad)).toBe(false);
    expect(isEventLogOutage(new CallTimeoutError("event log", 1))).toBe(true);
    // Another module graph's copy of the class (Next's bundle vs the custom server) is still recognised.
    const foreign = Object.assign(new Error("event log is unavailable (circuit open)"), { name: "CircuitOpenError", retryAfterMs: 5 });
    expect(isEventLogOutage(foreign)).toBe(true);
  });
});
