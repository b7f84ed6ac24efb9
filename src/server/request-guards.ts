import type { IncomingMessage, ServerResponse } from "node:http";
import { apiContentSecurityPolicy, securityHeaders } from "./security-headers";

const securityHeaderEntries = Object.entries(securityHeaders);

/** Headers every response of the node:http server carries; pages get their CSP (with nonce) from proxy.ts. */
export function applySecurityHeaders(res: ServerResponse, pathname: string): void {
  for (const [name, value] of securityHeaderEntries) res.setHeader(name, value);
  if (pathname.startsWith("/api/")) res.setHeader("Content-Security-Policy", apiContentSecurityPolicy);
}

/**
 * The client's IP as Better Auth's rate limiter reads it (X-Forwarded-For). The app server is the
 * edge unless told otherwise, so a client-sent X-Forwarded-For is replaced by the socket's address:
 * forging it must not buy fresh sign-in attempts. Behind a reverse proxy, GENSTREAM_TRUST_PROXY=1.
 */
export function pinClientIp(req: IncomingMessage, trustProxy: boolean): void {
  if (trustProxy) return;
  const address = req.socket.remoteAddress;
  if (address) req.headers["x-forwarded-for"] = address;
  else delete req.headers["x-forwarded-for"];
}

/**
 * The request's URL, or null when it cannot be parsed: `GET //` or `GET /\` are not URLs
 * relative to a base, and `new URL` throws on them — inside a request listener that would be an
 * uncaught exception ending the process.
 */
export function parseRequestUrl(raw: string | undefined): URL | null {
  try {
    return new URL(raw ?? "/", "http://localhost");
  } catch {
    return null;
  }
}

export function rejectMalformedUrl(res: ServerResponse): void {
  res
    .writeHead(400, { "Content-Type": "application/json", Connection: "close" })
    .end(JSON.stringify({ code: "BAD_REQUEST", message: "Malformed request URL" }));
}
