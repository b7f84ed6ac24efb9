import { describe, expect, it } from "vitest";
import { inngestClientOptions, MissingInngestSigningKeyError, requireInngestSigningKey, type ServerEnv } from "./env";

const KEY = `signkey-prod-${"ab".repeat(32)}`;
const base = { NODE_ENV: "production", PORT: 3000, INNGEST_DEV: "http://127.0.0.1:8288" } as ServerEnv;

describe("inngestClientOptions: /api/inngest verifies signatures outside development", () => {
  it("development: dev mode against the dev server or embedded executor (unsigned)", () => {
    expect(inngestClientOptions({ ...base, NODE_ENV: "development" })).toEqual({ isDev: true, baseUrl: "http://127.0.0.1:8288" });
    expect(inngestClientOptions({ ...base, NODE_ENV: "development", INNGEST_DEV: undefined })).toEqual({
      isDev: true,
      baseUrl: "http://127.0.0.1:8288",
    });
  });

  it("production with the embedded executor: cloud mode (signatures verified) with the signing key, events to the executor", () => {
    expect(inngestClientOptions({ ...base, INNGEST_SIGNING_KEY: KEY })).toEqual({
      isDev: false,
      signingKey: KEY,
      baseUrl: "http://127.0.0.1:8288",
      eventKey: "genstream-local",
    });
  });

  it("production without INNGEST_SIGNING_KEY: still cloud mode (the SDK refuses every call), and the server refuses to start, saying how to make one", () => {
    expect(inngestClientOptions(base)).toEqual({ isDev: false, baseUrl: "http://127.0.0.1:8288", eventKey: "genstream-local" });
    expect(() => requireInngestSigningKey(base)).toThrow(MissingInngestSigningKeyError);
    expect(() => requireInngestSigningKey({ ...base, INNGEST_DEV: undefined })).toThrow(
      /INNGEST_SIGNING_KEY is not set.*openssl rand -hex 32/,
    );
    expect(() => requireInngestSigningKey({ ...base, INNGEST_SIGNING_KEY: KEY })).not.toThrow();
    expect(() => requireInngestSigningKey({ ...base, NODE_ENV: "development" })).not.toThrow();
  });

  it("Inngest Cloud (event key, no INNGEST_DEV): cloud mode in any environment", () => {
    expect(inngestClientOptions({ ...base, INNGEST_DEV: undefined, INNGEST_EVENT_KEY: "ek", INNGEST_SIGNING_KEY: KEY })).toEqual({
      isDev: false,
      signingKey: KEY,
    });
    expect(inngestClientOptions({ ...base, NODE_ENV: "development", INNGEST_DEV: undefined, INNGEST_EVENT_KEY: "ek" })).toEqual({
      isDev: false,
    });
  });
});
