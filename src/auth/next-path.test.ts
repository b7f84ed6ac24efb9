import { describe, expect, it } from "vitest";
import { safeNextPath, signInPath } from "./next-path";

describe("safeNextPath: where sign-in may send the browser", () => {
  it.each([
    ["/projects/abc", "/projects/abc"],
    ["/projects/abc?x=1#top", "/projects/abc?x=1#top"],
    ["/", "/"],
  ])("keeps a path of this app: %s", (raw, expected) => {
    expect(safeNextPath(raw)).toBe(expected);
  });

  it.each([
    null,
    undefined,
    "",
    "projects",
    "//evil.example/x",
    "/\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    `/${"x".repeat(3_000)}`,
  ])("sends anything else home: %s", (raw) => {
    expect(safeNextPath(raw)).toBe("/");
  });

  it("builds the sign-in URL with the path encoded", () => {
    expect(signInPath("/projects/a b")).toBe("/sign-in?next=%2Fprojects%2Fa%2520b");
  });
});
