import { describe, expect, it } from "vitest";
import { ID_PATTERN, idSchema, newId } from "./ids";

describe("ids", () => {
  it("every id the app generates satisfies the one id rule, and they sort by time", () => {
    const ids = [newId(1_000), newId(2_000), ...Array.from({ length: 50 }, () => newId())];
    for (const id of ids) expect(id).toMatch(ID_PATTERN);
    expect(ids[0] && ids[1] && ids[0] < ids[1]).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("accepts the job engine's run ids and refuses what cannot sit unescaped in a path", () => {
    expect(idSchema.safeParse("01M8SM69PP03XMVQKQXF6SPHAF").success).toBe(true);
    for (const bad of ["", "../etc/passwd", "a b", "p/1", "p%2F1", "x".repeat(65), "p.1"])
      expect(idSchema.safeParse(bad).success, bad).toBe(false);
  });
});
