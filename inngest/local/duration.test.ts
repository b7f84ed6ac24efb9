import { describe, expect, it } from "vitest";
import { parseDuration, retryAfterMs, sleepDelayMs } from "./duration";

describe("durations", () => {
  it.each([
    ["1m30s", 90_000],
    ["500ms", 500],
    ["2h", 7_200_000],
    ["1w1d", 691_200_000],
    ["1.5s", 1_500],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "soon", "10", "5 minutes", "1m30"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("reads sleepUntil dates relative to now, past dates as 0", () => {
    const now = Date.parse("2030-01-01T00:00:00.000Z");
    expect(sleepDelayMs("2030-01-01T00:00:02.500Z", now)).toBe(2_500);
    expect(sleepDelayMs("2029-12-31T00:00:00.000Z", now)).toBe(0);
    expect(sleepDelayMs("1m", now)).toBe(60_000);
    expect(sleepDelayMs("tomorrow", now)).toBeUndefined();
  });

  it("reads retry-after as seconds or a date", () => {
    const now = Date.parse("2030-01-01T00:00:00.000Z");
    expect(retryAfterMs("3", now)).toBe(3_000);
    expect(retryAfterMs("2030-01-01T00:00:10.000Z", now)).toBe(10_000);
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
