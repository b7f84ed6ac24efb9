import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { parseRequestUrl, pinClientIp } from "./request-guards";

function request(headers: Record<string, string>, remoteAddress: string | undefined): IncomingMessage {
  return { headers: { ...headers }, socket: { remoteAddress } } as unknown as IncomingMessage;
}

describe("pinClientIp: the sign-in rate limit counts the real client", () => {
  it("replaces a client-sent X-Forwarded-For with the socket's address (the app server is the edge)", () => {
    const req = request({ "x-forwarded-for": "203.0.113.99" }, "198.51.100.4");
    pinClientIp(req, false);
    expect(req.headers["x-forwarded-for"]).toBe("198.51.100.4");
    const bare = request({}, "198.51.100.5");
    pinClientIp(bare, false);
    expect(bare.headers["x-forwarded-for"]).toBe("198.51.100.5");
  });

  it("drops it when the socket has no address; keeps it behind a trusted proxy (GENSTREAM_TRUST_PROXY=1)", () => {
    const gone = request({ "x-forwarded-for": "203.0.113.99" }, undefined);
    pinClientIp(gone, false);
    expect(gone.headers["x-forwarded-for"]).toBeUndefined();
    const proxied = request({ "x-forwarded-for": "203.0.113.99" }, "10.0.0.2");
    pinClientIp(proxied, true);
    expect(proxied.headers["x-forwarded-for"]).toBe("203.0.113.99");
  });
});

describe("parseRequestUrl", () => {
  it("null for what is not a URL path (instead of throwing in the listener)", () => {
    expect(parseRequestUrl("//")).toBeNull();
    expect(parseRequestUrl("/api/projects/a/events?cursor=x")?.pathname).toBe("/api/projects/a/events");
  });
});
