import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { AccessGuard, decideDashboard, hostProblem, SESSION_COOKIE, sameOriginProblem } from "./access";

const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;
const KEY = "signkey-test-00112233445566778899aabbccddeeff";

describe("decideDashboard", () => {
  it("is on behind the signing key whenever there is one, production included", () => {
    expect(decideDashboard({ setting: undefined, signingKey: KEY, host: "0.0.0.0", nodeEnv: "production" })).toEqual({
      on: true,
      auth: "signing-key",
    });
  });

  it("is open without a key only in development on a loopback address", () => {
    expect(decideDashboard({ setting: undefined, signingKey: undefined, host: "127.0.0.1", nodeEnv: "development" })).toEqual({
      on: true,
      auth: "none",
    });
    expect(decideDashboard({ setting: undefined, signingKey: undefined, host: "::1", nodeEnv: undefined })).toMatchObject({ on: true });
    const exposed = decideDashboard({ setting: undefined, signingKey: undefined, host: "0.0.0.0", nodeEnv: "development" });
    expect(exposed).toMatchObject({ on: false, reason: expect.stringContaining("loopback") });
    const production = decideDashboard({ setting: "on", signingKey: undefined, host: "127.0.0.1", nodeEnv: "production" });
    expect(production).toMatchObject({ on: false, reason: expect.stringContaining("INNGEST_SIGNING_KEY") });
  });

  it("is off when GENSTREAM_DASHBOARD=off", () => {
    expect(decideDashboard({ setting: "off", signingKey: KEY, host: "127.0.0.1", nodeEnv: "development" })).toEqual({
      on: false,
      reason: "GENSTREAM_DASHBOARD=off",
    });
  });
});

describe("AccessGuard", () => {
  const guard = new AccessGuard(KEY);

  it("takes the signing key as a bearer token, and nothing else", () => {
    expect(guard.allows(req({ authorization: `Bearer ${KEY}` }))).toBe(true);
    expect(guard.allows(req({ authorization: `Bearer ${KEY}x` }))).toBe(false);
    expect(guard.allows(req({ authorization: KEY }))).toBe(false);
    expect(guard.allows(req({}))).toBe(false);
  });

  it("signs in with the key into a cookie that carries a MAC of it, not the key", () => {
    expect(guard.signIn("signkey-test-nope")).toBeUndefined();
    const cookie = guard.signIn(` ${KEY} `) ?? "";
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$`));
    expect(cookie).not.toContain(KEY);
    const value = cookie.split(";")[0] ?? "";
    expect(guard.allows(req({ cookie: `other=1; ${value}` }))).toBe(true);
    expect(guard.allows(req({ cookie: `${value}0` }))).toBe(false);
    // Another key's session does not open this one.
    const other = new AccessGuard(`${KEY}ff`).signIn(`${KEY}ff`)?.split(";")[0] ?? "";
    expect(guard.allows(req({ cookie: other }))).toBe(false);
  });

  it("lets everything through without a key (the loopback development tool)", () => {
    const open = new AccessGuard(undefined);
    expect(open.required).toBe(false);
    expect(open.allows(req({}))).toBe(true);
    expect(open.signIn("anything")).toBeUndefined();
  });
});

describe("same-origin and host checks", () => {
  it("wants actions as JSON from this origin", () => {
    const host = "127.0.0.1:8288";
    expect(sameOriginProblem(req({ host, origin: "http://127.0.0.1:8288", "content-type": "application/json" }), "POST")).toBeUndefined();
    expect(sameOriginProblem(req({ host, "content-type": "application/json; charset=utf-8" }), "POST")).toBeUndefined();
    expect(sameOriginProblem(req({ host, origin: "http://evil.test", "content-type": "application/json" }), "POST")).toContain("evil.test");
    expect(sameOriginProblem(req({ host, "content-type": "text/plain" }), "POST")).toContain("JSON");
    expect(sameOriginProblem(req({ host }), "GET")).toBeUndefined();
    expect(sameOriginProblem(req({}), "GET")).toBe("missing Host header");
  });

  it("answers an open dashboard only under a loopback name (no DNS rebinding)", () => {
    const open = new AccessGuard(undefined);
    expect(hostProblem(req({ host: "127.0.0.1:8288" }), open)).toBeUndefined();
    expect(hostProblem(req({ host: "localhost:8288" }), open)).toBeUndefined();
    expect(hostProblem(req({ host: "[::1]:8288" }), open)).toBeUndefined();
    expect(hostProblem(req({ host: "rebind.evil.test:8288" }), open)).toContain("not a loopback name");
    // Behind the key, any name (a deployment's) is fine: the key is the check.
    expect(hostProblem(req({ host: "engine.internal:8288" }), new AccessGuard(KEY))).toBeUndefined();
  });
});
