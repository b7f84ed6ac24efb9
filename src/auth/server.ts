import { getDb } from "../db/client";
import { env } from "../lib/env";
import { log } from "../lib/logger";
import { createAuth, type Auth } from "./create-auth";
import { authOrigins } from "./origins";
import { authSecret } from "./secret";

/**
 * The process-wide auth instance, on globalThis like the database: the custom server (stream
 * authorizer) and Next's module graphs (route handler, server components) must share one.
 */
const globalForAuth = globalThis as unknown as { __genstreamAuth?: Promise<Auth> };

export function getAuth(): Promise<Auth> {
  if (!globalForAuth.__genstreamAuth) {
    globalForAuth.__genstreamAuth = (async () => {
      const secret = authSecret(env);
      const handle = await getDb();
      // Browsers accept Secure cookies from http://localhost and 127.0.0.1, so production is always Secure.
      const secureCookies = env.NODE_ENV === "production" || (env.BETTER_AUTH_URL?.startsWith("https://") ?? false);
      return createAuth({ db: handle.db, secret, logger: log, secureCookies, ...authOrigins(env) });
    })().catch((error: unknown) => {
      globalForAuth.__genstreamAuth = undefined;
      throw error;
    });
  }
  return globalForAuth.__genstreamAuth;
}
