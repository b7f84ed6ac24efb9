import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import { account, rateLimit, session, user, verification } from "../db/schema";
import { limits } from "../server/limits";
import type { AuthOrigins } from "./origins";
import type { SessionRevocations } from "./revocations";

export interface CreateAuthOptions extends AuthOrigins {
  db: Db;
  secret: string;
  logger: Logger;
  /** `Secure` cookies with the `__Secure-` prefix: production, or any https URL. */
  secureCookies: boolean;
  /** Better Auth's per-IP limiter; tests that sign up many users at once turn it off. */
  rateLimit?: boolean;
  /** Told of every session deletion, so caches of verified sessions (the stream authorizer's) drop them. */
  revocations: SessionRevocations;
}

/**
 * Accounts and sessions: Better Auth, email + password (hashed by the library with scrypt),
 * sessions stored in the app's database through the Drizzle adapter, HttpOnly SameSite=Lax cookies,
 * `Secure` (and `__Secure-` prefixed) when `secureCookies`.
 */
export function createAuth(options: CreateAuthOptions) {
  const logger = options.logger.child({ component: "auth" });
  const perMinute = { window: 60, max: limits.authAttemptsPerMinute };
  return betterAuth({
    appName: "Genstream",
    secret: options.secret,
    baseURL: options.baseURL,
    trustedOrigins: options.trustedOrigins,
    database: drizzleAdapter(options.db, { provider: "pg", schema: { user, session, account, verification, rateLimit } }),
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128, autoSignIn: true },
    rateLimit: {
      enabled: options.rateLimit ?? true,
      // In the database, not per process: N instances allow the limit in total, and a restart keeps it.
      storage: "database",
      customRules: { "/sign-in/*": perMinute, "/sign-up/*": perMinute },
    },
    advanced: { useSecureCookies: options.secureCookies },
    // Caches of verified sessions (the stream authorizer's) drop everything when a session ends here.
    databaseHooks: { session: { delete: { after: async () => options.revocations.note() } } },
    telemetry: { enabled: false },
    logger: {
      level: "warn",
      log: (level, message) => logger[level]({ source: "better-auth" }, message),
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
export type AuthSession = NonNullable<Awaited<ReturnType<Auth["api"]["getSession"]>>>;
