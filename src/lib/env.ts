import { z } from "zod";

/**
 * Server environment, parsed once. Import `env` instead of reading process.env.
 * Embedded defaults need no variable at all: PGlite under .data/, in-memory log, local executor.
 */
const serverSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOSTNAME: z.string().default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgres:// URL")
    .optional(),
  PGLITE_DIR: z.string().default(".data/pglite"),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "REDIS_URL must be a redis:// URL").optional(),
  /** URL of an Inngest dev server (or the embedded executor); "1" means the default dev server. */
  INNGEST_DEV: z.string().optional(),
  INNGEST_EVENT_KEY: z.string().optional(),
  INNGEST_SIGNING_KEY: z.string().optional(),
  INNGEST_BASE_URL: z.string().url().optional(),
  /**
   * Enables test-only stream controls (fault injection, bench load). They exist only when this is
   * "1", which no deployment sets; the end-to-end suite and the benchmark set it explicitly.
   */
  GENSTREAM_TEST_CONTROLS: z.enum(["0", "1"]).default("0"),
  /** Signs session cookies. Required in production (see src/auth/secret.ts); dev and tests use a fallback. */
  BETTER_AUTH_SECRET: z
    .string()
    .min(32, "BETTER_AUTH_SECRET must be at least 32 characters (generate one: openssl rand -base64 32)")
    .optional(),
  /** The public URL of the app (e.g. https://genstream.example.com); unset: localhost / 127.0.0.1 on PORT. */
  BETTER_AUTH_URL: z.string().url("BETTER_AUTH_URL must be a URL such as https://genstream.example.com").optional(),
  /** "1" behind a reverse proxy: trust its X-Forwarded-For for the client's IP (auth rate limits). */
  GENSTREAM_TRUST_PROXY: z.enum(["0", "1"]).default("0"),
});

export type ServerEnv = z.infer<typeof serverSchema>;

/** Parses an environment (process.env by default); throws naming every bad variable. */
export function parseServerEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  const parsed = serverSchema.superRefine(refuseUnverifiedProduction).safeParse(source);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid environment: ${fields}`);
  }
  return parsed.data;
}

const devFlagOff = (value: string | undefined): boolean => value === "0" || value === "false";

/**
 * Production with a signing key must verify Inngest's signatures; with INNGEST_DEV set the serve
 * handler would run in dev mode and accept unsigned calls, so that combination is refused.
 */
function refuseUnverifiedProduction(e: ServerEnv, ctx: z.RefinementCtx): void {
  if (e.NODE_ENV !== "production" || !e.INNGEST_SIGNING_KEY || e.INNGEST_DEV === undefined || devFlagOff(e.INNGEST_DEV)) return;
  ctx.addIssue({
    code: "custom",
    path: ["INNGEST_DEV"],
    message:
      "must not be set in production together with INNGEST_SIGNING_KEY (the Inngest endpoint would skip signature verification); for a self-hosted Inngest set INNGEST_BASE_URL instead",
  });
}

export const env: ServerEnv = parseServerEnv();

/** Where the Inngest client sends events when no Cloud key is configured. */
export const DEFAULT_INNGEST_DEV_URL = "http://127.0.0.1:8288";

/**
 * Cloud mode (signatures verified, events sent with the event key to Inngest Cloud or to
 * INNGEST_BASE_URL for a self-hosted Inngest) when keys are set and INNGEST_DEV is not; else dev mode.
 */
export function inngestMode(e: ServerEnv = env): { kind: "cloud" } | { kind: "dev"; url: string } {
  const devUnset = e.INNGEST_DEV === undefined || devFlagOff(e.INNGEST_DEV);
  if (devUnset && (e.INNGEST_EVENT_KEY || e.INNGEST_SIGNING_KEY)) return { kind: "cloud" };
  const dev = e.INNGEST_DEV;
  if (dev === undefined || dev === "1" || dev === "true") return { kind: "dev", url: DEFAULT_INNGEST_DEV_URL };
  return { kind: "dev", url: dev };
}
