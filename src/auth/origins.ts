import type { ServerEnv } from "../lib/env";

/**
 * Where the app is reached. With BETTER_AUTH_URL that one URL; otherwise localhost and 127.0.0.1 on
 * PORT (both are used to open `npm run dev`), resolved per request from the Host header. Any other
 * Host falls back to localhost, so a forged Host can never become a trusted origin.
 */
export interface AuthOrigins {
  baseURL: string | { allowedHosts: string[]; fallback: string };
  trustedOrigins: string[];
}

export function authOrigins(e: Pick<ServerEnv, "BETTER_AUTH_URL" | "PORT">): AuthOrigins {
  if (e.BETTER_AUTH_URL) {
    const origin = new URL(e.BETTER_AUTH_URL).origin;
    return { baseURL: origin, trustedOrigins: [origin] };
  }
  const hosts = [`localhost:${e.PORT}`, `127.0.0.1:${e.PORT}`];
  return {
    baseURL: { allowedHosts: hosts, fallback: `http://${hosts[0]}` },
    trustedOrigins: hosts.map((h) => `http://${h}`),
  };
}

/**
 * `Secure` cookies (with the `__Secure-` prefix) in production and whenever the app is reached over
 * https. Browsers accept Secure cookies from http://localhost and 127.0.0.1, so production is always
 * Secure, even when tested locally; plain-http development (`npm run dev`) is not.
 */
export function secureCookiesFor(e: Pick<ServerEnv, "NODE_ENV" | "BETTER_AUTH_URL">): boolean {
  return e.NODE_ENV === "production" || (e.BETTER_AUTH_URL?.startsWith("https://") ?? false);
}
