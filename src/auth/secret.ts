import type { ServerEnv } from "../lib/env";
import { silentLogger, type Logger } from "../lib/logger";

/**
 * Development only: `npm install && npm run dev` must work with no environment at all. Sessions
 * signed with a published secret are forgeable, so production refuses it (see authSecret).
 */
const DEVELOPMENT_FALLBACK_SECRET = "genstream-development-only-secret-never-use-in-production";

export class MissingAuthSecretError extends Error {
  override readonly name = "MissingAuthSecretError";
}

/** The secret that signs session cookies: BETTER_AUTH_SECRET, or in development and tests a logged fallback. */
export function authSecret(e: Pick<ServerEnv, "BETTER_AUTH_SECRET" | "NODE_ENV">, logger: Logger = silentLogger): string {
  if (e.BETTER_AUTH_SECRET) return e.BETTER_AUTH_SECRET;
  if (e.NODE_ENV === "production") {
    throw new MissingAuthSecretError(
      "BETTER_AUTH_SECRET is not set. Production needs a secret of at least 32 characters to sign sessions: generate one with `openssl rand -base64 32` and set BETTER_AUTH_SECRET.",
    );
  }
  // Called once per process, when the services are built.
  logger.warn({ nodeEnv: e.NODE_ENV }, "BETTER_AUTH_SECRET is not set: using the development fallback secret (never in production)");
  return DEVELOPMENT_FALLBACK_SECRET;
}
