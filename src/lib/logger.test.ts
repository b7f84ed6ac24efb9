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
