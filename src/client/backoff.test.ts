import { describe, expect, it } from "vitest";
import { reconnectConfig } from "../streaming/config";
import { seededRandom as seeded } from "../test/chaos/seeded-random";
import { Backoff } from "./backoff";


describe("backoff", () => {
  it("draws each delay uniformly below an exponentially growing ceiling, capped", () => {
    const random = seeded(42);
    const expected = seeded(42);
    const backoff = new Backoff({ random });
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
    const backoff = new Backoff({ random: () => 0.999_999 });
    const delays = Array.from({ length: 10 }, () => backoff.nextDelay());
    expect(delays[0]).toBeLessThan(reconnectConfig.baseMs);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
    expect(Math.max(...delays)).toBeLessThanOrEqual(reconnectConfig.capMs);
    expect(delays.at(-1)).toBe(Math.floor(0.999_999 * reconnectConfig.capMs));
  });

  it("spreads delays (full jitter) rather than using the ceiling", () => {
    const random = seeded(7);
    const samples = Array.from({ length: 200 }, () => {
      const b = new Backoff({ random });
      b.nextDelay();
      b.nextDelay();
      return b.nextDelay(); // ceiling 4 * base
    });
    expect(Math.min(...samples)).toBeLessThan(reconnectConfig.baseMs);
    expect(Math.max(...samples)).toBeGreaterThan(3 * reconnectConfig.baseMs);
  });

  it("starts over after a healthy period, but not after a short one", () => {
    let now = 0;
    const backoff = new Backoff({ random: () => 0.5, now: () => now });
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
    const backoff = new Backoff({ random: () => 0.5 });
    for (let i = 0; i < 6; i++) backoff.nextDelay();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.nextDelay()).toBe(Math.floor(0.5 * reconnectConfig.baseMs));
  });

  it("clamps a misbehaving random source", () => {
    expect(new Backoff({ random: () => 5 }).nextDelay()).toBe(reconnectConfig.baseMs);
    expect(new Backoff({ random: () => -1 }).nextDelay()).toBe(0);
  });
});
