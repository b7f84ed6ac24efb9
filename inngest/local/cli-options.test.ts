import { describe, expect, it } from "vitest";
import { resolveCliOptions } from "./cli-options";

describe("CLI options", () => {
  it("defaults to the dev server port and the app's /api/inngest", () => {
    expect(resolveCliOptions({})).toEqual({
      start: true,
      port: 8288,
      host: "127.0.0.1",
      appUrl: "http://127.0.0.1:3000/api/inngest",
      dashboard: { on: true, auth: "none" },
      store: { kind: "pglite", dir: ".data/engine", schema: "genstream_engine" },
    });
    expect(resolveCliOptions({ PORT: "4000", INNGEST_DEV: "1" })).toMatchObject({
      port: 8288,
      appUrl: "http://127.0.0.1:4000/api/inngest",
    });
  });

  it("keeps its state in a schema of the app's PostgreSQL, else in its own PGlite, or in memory only when told", () => {
    expect(resolveCliOptions({ DATABASE_URL: "postgres://u@h/db" })).toMatchObject({
      store: { kind: "postgres", url: "postgres://u@h/db", schema: "genstream_engine" },
    });
    expect(resolveCliOptions({ DATABASE_URL: "postgres://u@h/db", GENSTREAM_EXECUTOR_SCHEMA: "engine_2" })).toMatchObject({
      store: { kind: "postgres", schema: "engine_2" },
    });
    expect(resolveCliOptions({ GENSTREAM_EXECUTOR_PGLITE_DIR: "/tmp/e" })).toMatchObject({ store: { kind: "pglite", dir: "/tmp/e" } });
    expect(resolveCliOptions({ DATABASE_URL: "postgres://u@h/db", GENSTREAM_EXECUTOR_STORE: "memory" })).toMatchObject({
      store: { kind: "memory" },
    });
    expect(() => resolveCliOptions({ GENSTREAM_EXECUTOR_SCHEMA: 'x"; drop schema public' })).toThrow(/GENSTREAM_EXECUTOR_SCHEMA/);
    expect(() => resolveCliOptions({ GENSTREAM_EXECUTOR_STORE: "redis" })).toThrow(/GENSTREAM_EXECUTOR_STORE/);
  });

  it("takes the port from a local INNGEST_DEV URL unless GENSTREAM_EXECUTOR_PORT says otherwise", () => {
    expect(resolveCliOptions({ INNGEST_DEV: "http://127.0.0.1:9999" })).toMatchObject({ start: true, port: 9999 });
    expect(resolveCliOptions({ INNGEST_DEV: "http://localhost:9999", GENSTREAM_EXECUTOR_PORT: "7000" })).toMatchObject({ port: 7000 });
    expect(resolveCliOptions({ GENSTREAM_APP_URL: "http://127.0.0.1:5000/x" })).toMatchObject({ appUrl: "http://127.0.0.1:5000/x" });
  });

  it.each([
    [{ GENSTREAM_EXECUTOR: "off" }, "GENSTREAM_EXECUTOR=off"],
    [{ INNGEST_EVENT_KEY: "key" }, "Inngest Cloud"],
    [{ INNGEST_DEV: "0" }, "cloud mode"],
    [{ INNGEST_DEV: "http://inngest.internal:8288" }, "real Inngest dev server"],
  ])("starts nothing when a real Inngest is configured: %j", (env, reason) => {
    const decision = resolveCliOptions(env);
    expect(decision.start).toBe(false);
    expect(decision.start === false && decision.reason).toContain(reason);
  });

  it("still starts with an event key when INNGEST_DEV points at it", () => {
    expect(resolveCliOptions({ INNGEST_EVENT_KEY: "k", INNGEST_DEV: "http://127.0.0.1:8288" })).toMatchObject({ start: true });
  });

  it("signs requests only when INNGEST_SIGNING_KEY is set", () => {
    expect(resolveCliOptions({})).not.toHaveProperty("signingKey");
    expect(resolveCliOptions({ INNGEST_SIGNING_KEY: " " })).not.toHaveProperty("signingKey");
    expect(resolveCliOptions({ INNGEST_SIGNING_KEY: "signkey-test-abc" })).toMatchObject({ start: true, signingKey: "signkey-test-abc" });
  });

  it("serves the dashboard behind the signing key when there is one, open on loopback in development, else off", () => {
    expect(resolveCliOptions({ INNGEST_SIGNING_KEY: "signkey-test-abc", NODE_ENV: "production" })).toMatchObject({
      dashboard: { on: true, auth: "signing-key" },
    });
    expect(resolveCliOptions({ NODE_ENV: "production" })).toMatchObject({ dashboard: { on: false } });
    expect(resolveCliOptions({ GENSTREAM_EXECUTOR_HOST: "0.0.0.0" })).toMatchObject({ dashboard: { on: false } });
    expect(resolveCliOptions({ GENSTREAM_DASHBOARD: "off" })).toMatchObject({
      dashboard: { on: false, reason: "GENSTREAM_DASHBOARD=off" },
    });
    expect(() => resolveCliOptions({ GENSTREAM_DASHBOARD: "maybe" })).toThrow("GENSTREAM_DASHBOARD");
  });

  it("rejects invalid settings with a readable error", () => {
    expect(() => resolveCliOptions({ GENSTREAM_EXECUTOR_PORT: "lots" })).toThrow("GENSTREAM_EXECUTOR_PORT");
    expect(() => resolveCliOptions({ INNGEST_DEV: "maybe" })).toThrow("INNGEST_DEV");
  });
});
