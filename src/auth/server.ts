import { getDb } from "../db/client";
import { env } from "../lib/env";
import { log } from "../lib/logger";
import { createAuth, type Auth } from "./create-auth";
import { authOrigins, secureCookiesFor } from "./origins";
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
      return createAuth({ db: handle.db, secret, logger: log, secureCookies: secureCookiesFor(env), ...authOrigins(env) });
    })().catch((error: unknown) => {
      globalForAuth.__genstreamAuth = undefined;
      throw error;
    });
  }
  return globalForAuth.__genstreamAuth;
}
