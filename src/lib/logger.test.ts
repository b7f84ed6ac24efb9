import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { resolveLogFormat } from "./logger";

describe("log format", () => {
  it("is pretty only in development on a terminal, unless LOG_FORMAT says otherwise", () => {
    expect(resolveLogFormat({ nodeEnv: "development", tty: true })).toBe("pretty");
    expect(resolveLogFormat({ nodeEnv: "development", tty: false })).toBe("json");
    expect(resolveLogFormat({ nodeEnv: "production", tty: true })).toBe("json");
    expect(resolveLogFormat({ nodeEnv: "test", tty: true })).toBe("json");
    expect(resolveLogFormat({ nodeEnv: "production", tty: false, format: "pretty" })).toBe("pretty");
    expect(resolveLogFormat({ nodeEnv: "development", tty: true, format: "json" })).toBe("json");
  });
});

describe("asynchronous writes (sync: false)", () => {
  it("loses no line when the process exits right after logging, nor when it throws", () => {
    for (const ending of ["process.exit(0)", "throw new Error('boom')"]) {
      const script = `import { createLogger } from "./src/lib/logger.ts";
const log = createLogger({ nodeEnv: "production", level: "info", sync: false });
for (let i = 0; i < 2000; i++) log.info({ i }, "line");
${ending};`;
      const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
      const lines = child.stdout.split("\n").filter((l) => l.includes('"msg":"line"'));
      expect(lines).toHaveLength(2000);
      expect(JSON.parse(lines.at(-1) ?? "{}")).toMatchObject({ i: 1999, app: "genstream" });
    }
  }, 30_000);
});
