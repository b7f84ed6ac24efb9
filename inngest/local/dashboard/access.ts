import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * Who may read the dashboard and the REST API (/v1/*). With a signing key (always in production:
 * the app refuses to start without one) every request must carry it, as Inngest's REST API wants
 * it (`Authorization: Bearer <signing key>`), or the cookie the dashboard's sign-in sets. Without
 * one the executor is a loopback-only development tool and the dashboard is open to this machine.
 */
export type DashboardDecision = { on: true; auth: "signing-key" | "none" } | { on: false; reason: string };

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "[::1]", "localhost"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function decideDashboard(input: {
  setting: "on" | "off" | undefined;
  signingKey: string | undefined;
  host: string;
  nodeEnv: string | undefined;
}): DashboardDecision {
  if (input.setting === "off") return { on: false, reason: "GENSTREAM_DASHBOARD=off" };
  if (input.signingKey !== undefined) return { on: true, auth: "signing-key" };
  if (input.nodeEnv === "production") {
    return { on: false, reason: "NODE_ENV=production without INNGEST_SIGNING_KEY: the dashboard is served only behind the signing key" };
  }
  if (!isLoopbackHost(input.host)) {
    return {
      on: false,
      reason: `listening on ${input.host} without INNGEST_SIGNING_KEY: the open dashboard is served on a loopback address only`,
    };
  }
  return { on: true, auth: "none" };
}

export const SESSION_COOKIE = "genstream_dashboard";

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export class AccessGuard {
  /** The cookie carries a MAC of the key, never the key: a leaked cookie does not sign requests to the app. */
  private readonly sessionValue: string | undefined;

  constructor(private readonly signingKey: string | undefined) {
    this.sessionValue =
      signingKey === undefined ? undefined : createHmac("sha256", signingKey).update("genstream-dashboard-session").digest("hex");
  }

  get required(): boolean {
    return this.signingKey !== undefined;
  }

  /** The signing key as a bearer token, or the dashboard's session cookie. */
  allows(req: IncomingMessage): boolean {
    if (this.signingKey === undefined || this.sessionValue === undefined) return true;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ") && safeEqual(auth.slice("Bearer ".length).trim(), this.signingKey)) return true;
    const cookie = cookies(req).get(SESSION_COOKIE);
    return cookie !== undefined && safeEqual(cookie, this.sessionValue);
  }

  /** The Set-Cookie header for a sign-in with `key`, or undefined when the key is wrong. */
  signIn(key: string): string | undefined {
    if (this.signingKey === undefined || this.sessionValue === undefined || !safeEqual(key.trim(), this.signingKey)) return undefined;
    return `${SESSION_COOKIE}=${this.sessionValue}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

/**
 * A state-changing dashboard request must come from the dashboard's own page: JSON (a cross-site form
 * or `no-cors` fetch cannot send it without a preflight this server never grants) and, when the
 * browser says where it comes from, from this origin. The Host must be the one the server listens
 * as, so a DNS-rebinding page cannot reach an open loopback dashboard.
 */
export function sameOriginProblem(req: IncomingMessage, method: string): string | undefined {
  const host = req.headers.host;
  if (!host) return "missing Host header";
  const origin = req.headers.origin;
  // https: behind a TLS-terminating proxy that keeps the Host.
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) {
    return `origin ${origin} is not this dashboard's (http://${host})`;
  }
  if (method !== "GET" && !(req.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
    return "send JSON (content-type: application/json)";
  }
  return undefined;
}

export function hostProblem(req: IncomingMessage, guard: AccessGuard): string | undefined {
  if (guard.required) return undefined;
  const host = req.headers.host;
  const hostname = host === undefined ? "" : new URL(`http://${host}`).hostname;
  return isLoopbackHost(hostname)
    ? undefined
    : `Host ${host ?? "(none)"} is not a loopback name: the open dashboard answers only on 127.0.0.1 / localhost`;
}
