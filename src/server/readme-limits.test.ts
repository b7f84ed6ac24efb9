/**
 * The README's "Security and limits" table lists every limit of src/server/limits.ts with its
 * current value: a new limit, or a changed value, without the README updated fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { limits } from "./limits";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const section = readme.slice(
  readme.indexOf("## Security and limits"),
  readme.indexOf("\n## ", readme.indexOf("## Security and limits") + 1),
);

function shown(key: string, value: number): string {
  if (!key.endsWith("Bytes")) return String(value);
  return value >= 1024 * 1024 ? `${value / (1024 * 1024)} MB` : `${value / 1024} KB`;
}

describe("README: Security and limits", () => {
  it("exists", () => {
    expect(section).toContain("| limit | value | when exceeded | configurable |");
  });

  it.each(Object.entries(limits))("lists %s with its value", (key, value) => {
    const row = section.split("\n").find((line) => line.startsWith("|") && line.includes(`(\`${key}\`)`));
    expect(row, `no row for ${key} in the README's limits table`).toBeDefined();
    const cells = (row ?? "").split("|").map((c) => c.trim());
    expect(cells[2]).toContain(shown(key, value));
  });
});
