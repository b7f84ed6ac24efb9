import { describe, expect, it } from "vitest";
import { BoundedSet } from "./bounded-set";

describe("bounded set", () => {
  it("forgets the oldest entries past its capacity", () => {
    const set = new BoundedSet<string>(3);
    for (const v of ["a", "b", "c", "a", "d"]) set.add(v);
    expect(set.size).toBe(3);
    expect(set.has("a")).toBe(false);
    expect(["b", "c", "d"].every((v) => set.has(v))).toBe(true);
  });

  it("rejects a useless capacity", () => {
    expect(() => new BoundedSet(0)).toThrow(RangeError);
  });
});
