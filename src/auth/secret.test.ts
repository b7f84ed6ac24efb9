import { describe, expect, it } from "vitest";
import type { ServerEnv } from "../lib/env";
import { authSecret, MissingAuthSecretError } from "./secret";
import { authOrigins, secureCookiesFor } from "./origins";

const base = { NODE_ENV: "development", PORT: 3000 } as ServerEnv;

describe("authSecret", () => {
  it("uses BETTER_AUTH_SECRET when set", () => {
    expect(authSecret({ ...base, NODE_ENV: "production", BETTER_AUTH_SECRET: "s".repeat(32) })).toBe("s".repeat(32));
  });

  it("refuses production without it, naming the variable and how to make one", () => {
    expect(() => authSecret({ ...base, NODE_ENV: "production" })).toThrow(MissingAuthSecretError);
    expect(() => authSecret({ ...base, NODE_ENV: "production" })).toThrow(/BETTER_AUTH_SECRET is not set.*openssl rand -base64 32/);
  });

  it("falls back to a development secret elsewhere, so `npm run dev` needs no environment", () => {
    expect(authSecret(base).length).toBeGreaterThanOrEqual(32);
    expect(authSecret({ ...base, NODE_ENV: "test" })).toBe(authSecret(base));
  });
});

describe("authOrigins", () => {
  it("without BETTER_AUTH_URL: localhost and 127.0.0.1 on PORT, falling back to localhost for any other Host", () => {
    expect(authOrigins({ PORT: 4123, BETTER_AUTH_URL: undefined })).toEqual({
      baseURL: { allowedHosts: ["localhost:4123", "127.0.0.1:4123"], fallback: "http://localhost:4123" },
      trustedOrigins: ["http://localhost:4123", "http://127.0.0.1:4123"],
    });
  });

  it("with BETTER_AUTH_URL: that origin only", () => {
    expect(authOrigins({ PORT: 3000, BETTER_AUTH_URL: "https://genstream.example.com/app" })).toEqual({
      baseURL: "https://genstream.example.com",
      trustedOrigins: ["https://genstream.example.com"],
    });
  });
});

describe("secureCookiesFor", () => {
  it("production, or any https URL: Secure cookies; plain-http development: not", () => {
    expect(secureCookiesFor({ NODE_ENV: "production", BETTER_AUTH_URL: undefined })).toBe(true);
    expect(secureCookiesFor({ NODE_ENV: "production", BETTER_AUTH_URL: "http://127.0.0.1:3000" })).toBe(true);
    expect(secureCookiesFor({ NODE_ENV: "development", BETTER_AUTH_URL: "https://genstream.example.com" })).toBe(true);
    expect(secureCookiesFor({ NODE_ENV: "development", BETTER_AUTH_URL: undefined })).toBe(false);
    expect(secureCookiesFor({ NODE_ENV: "test", BETTER_AUTH_URL: "http://localhost:3000" })).toBe(false);
  });
});
