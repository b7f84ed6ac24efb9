import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { devEngineEnvSchema } from "../../inngest/dev-engine";
import { executorEnvSchema } from "../../inngest/local/cli-options";
import { parseServerEnv, serverSchema } from "./env";

/** `# NAME=value` lines of .env.example: every variable, commented out, with its default. */
function documented(): Map<string, string> {
  const text = readFileSync(path.join(process.cwd(), ".env.example"), "utf8");
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match?.[1]) continue;
    expect(vars.has(match[1]), `${match[1]} is listed twice`).toBe(false);
    vars.set(match[1], match[2] ?? "");
  }
  return vars;
}

describe(".env.example", () => {
  it("lists exactly the variables the environment schemas read (app server, embedded executor, npm run dev)", () => {
    // PATH is the system's, read only to find inngest-cli.
    const schemas = [
      ...Object.keys(serverSchema.shape),
      ...Object.keys(executorEnvSchema.shape),
      ...Object.keys(devEngineEnvSchema.shape),
    ].filter((k) => k !== "PATH");
    expect([...documented().keys()].sort()).toEqual([...new Set(schemas)].sort());
  });

  it("shows the app server's defaults as the schema has them (blank: no default)", () => {
    const defaults = parseServerEnv({});
    const vars = documented();
    for (const key of Object.keys(serverSchema.shape) as (keyof typeof defaults)[]) {
      const value = defaults[key];
      expect(vars.get(key), key).toBe(value === undefined ? "" : String(value));
    }
  });

  it("is committed, while .env and .env*.local are ignored", () => {
    const ignored = readFileSync(path.join(process.cwd(), ".gitignore"), "utf8").split("\n");
    expect(ignored).toContain(".env");
    expect(ignored).toContain(".env*.local");
    expect(ignored.filter((line) => !line.startsWith("#")).some((line) => line.includes(".env.example"))).toBe(false);
  });
});
