import { describe, expect, it } from "vitest";
import { reconnectConfig } from "../streaming/config";
import { seededRandom as seeded } from "../test/chaos/seeded-random";
import { Backoff, backoffDelay } from "./backoff";

describe("backoff", () => {
  it("draws each delay uniformly below an exponentially growing ceiling, capped", () => {
    const random = seeded(42);
    const expected = seeded(42);
    const backoff = new Backoff({ ...reconnectConfig, random });
    const { baseMs, capMs } = reconnectConfig;
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
      const delay = backoff.nextDelay();
      expect(delay).toBe(Math.floor(expected() * ceiling));
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    }
    expect(backoff.attempts).toBe(12);
  });

  it("grows the ceiling and never exceeds capMs (random at its maximum)", () => {
    const backoff = new Backoff({ ...reconnectConfig, random: () => 0.999_999 });
    const delays = Array.from({ length: 10 }, () => backoff.nextDelay());
    expect(delays[0]).toBeLessThan(reconnectConfig.baseMs);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
    expect(Math.max(...delays)).toBeLessThanOrEqual(reconnectConfig.capMs);
    expect(delays.at(-1)).toBe(Math.floor(0.999_999 * reconnectConfig.capMs));
  });

  it("spreads delays (full jitter) rather than using the ceiling", () => {
    const random = seeded(7);
    const samples = Array.from({ length: 200 }, () => {
      const b = new Backoff({ ...reconnectConfig, random });
      b.nextDelay();
      b.nextDelay();
      return b.nextDelay(); // ceiling 4 * base
    });
    expect(Math.min(...samples)).toBeLessThan(reconnectConfig.baseMs);
    expect(Math.max(...samples)).toBeGreaterThan(3 * reconnectConfig.baseMs);
  });

  it("starts over after a healthy period, but not after a short one", () => {
    let now = 0;
    const backoff = new Backoff({ ...reconnectConfig, random: () => 0.5, now: () => now });
    for (let i = 0; i < 5; i++) backoff.nextDelay();
    backoff.markConnected();
    now += reconnectConfig.healthyAfterMs - 1;
    expect(backoff.nextDelay()).toBe(Math.floor(0.5 * Math.min(reconnectConfig.capMs, reconnectConfig.baseMs * 2 ** 5)));

    backoff.markConnected();
    now += reconnectConfig.healthyAfterMs;
    expect(backoff.nextDelay()).toBe(Math.floor(0.5 * reconnectConfig.baseMs));
    expect(backoff.attempts).toBe(1);
  });

  it("reset() starts over at once", () => {
    const backoff = new Backoff({ ...reconnectConfig, random: () => 0.5 });
    for (let i = 0; i < 6; i++) backoff.nextDelay();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.nextDelay()).toBe(Math.floor(0.5 * reconnectConfig.baseMs));
  });

  it("clamps a misbehaving random source", () => {
    expect(new Backoff({ ...reconnectConfig, random: () => 5 }).nextDelay()).toBe(reconnectConfig.baseMs);
    expect(new Backoff({ ...reconnectConfig, random: () => -1 }).nextDelay()).toBe(0);
  });
});

describe("backoffDelay", () => {
  it("keeps each caller's base and cap: retry 0 waits below base, the ceiling doubles, capMs bounds it", () => {
    const top = () => 0.999_999;
    const shape = { baseMs: 100, capMs: 5_000 };
    expect([0, 1, 2, 5, 6, 40].map((retry) => backoffDelay(retry, shape, top))).toEqual([99, 199, 399, 3_199, 4_999, 4_999]);
    expect(backoffDelay(3, shape, () => 0)).toBe(0);
    expect(backoffDelay(-1, shape, top)).toBe(99);
  });

  it("draws from the random source it is given (full jitter)", () => {
    const random = seeded(3);
    const expected = seeded(3);
    const shape = { baseMs: 200, capMs: 200 };
    for (let i = 0; i < 20; i++) expect(backoffDelay(4, shape, random)).toBe(Math.floor(expected() * 200));
  });
});
