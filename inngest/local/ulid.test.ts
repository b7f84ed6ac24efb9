import { describe, expect, it } from "vitest";
import { ulid, ulidTime } from "./ulid";

describe("ulid", () => {
  it("is 26 Crockford base32 characters starting with the time", () => {
    const id = ulid(Date.parse("2030-01-01T00:00:00Z"));
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(ulid(Date.parse("2031-01-01T00:00:00Z")).slice(0, 10) > id.slice(0, 10)).toBe(true);
  });

  it("sorts in creation order, even within one millisecond", () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 500 }, () => ulid(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("gives back the time it was minted at; a non-ULID is refused", () => {
    // Later than any id minted before in this file (ids are monotonic per process).
    const at = Date.parse("2040-12-02T07:00:00.123Z");
    expect(ulidTime(ulid(at))).toBe(at);
    expect(() => ulidTime("not-a-ulid!")).toThrow("not a ULID");
  });
});
