import { afterEach, describe, expect, it, vi } from "vitest";

/** The retention overrides the chaos and e2e suites rely on (a tiny log that overflows on purpose). */
async function loadConfig() {
  vi.resetModules();
  return import("../../streaming/config");
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe("stream config: retention from the environment", () => {
  it("keeps the defaults when the variables are unset or empty", async () => {
    vi.stubEnv("GENSTREAM_RETENTION_EVENTS", "");
    const { streamConfig } = await loadConfig();
    expect(streamConfig.retentionEvents).toBe(5_000);
    expect(streamConfig.retentionMs).toBe(60 * 60_000);
  });

  it("reads GENSTREAM_RETENTION_EVENTS and GENSTREAM_RETENTION_MS once, as positive integers", async () => {
    vi.stubEnv("GENSTREAM_RETENTION_EVENTS", "4");
    vi.stubEnv("GENSTREAM_RETENTION_MS", "2500");
    const { streamConfig } = await loadConfig();
    expect(streamConfig).toMatchObject({ retentionEvents: 4, retentionMs: 2_500 });
  });

  it("refuses a bad value with a message naming the variable", async () => {
    vi.stubEnv("GENSTREAM_RETENTION_EVENTS", "many");
    await expect(loadConfig()).rejects.toThrow(/GENSTREAM_RETENTION_EVENTS/);
    vi.stubEnv("GENSTREAM_RETENTION_EVENTS", "0");
    await expect(loadConfig()).rejects.toThrow(/GENSTREAM_RETENTION_EVENTS/);
  });
});
