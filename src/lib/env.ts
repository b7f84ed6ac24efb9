import { z } from "zod";
import { loadEnvFiles } from "./env-files";
import { modelEnvSchema, modelEnvShape } from "../generation/model/config";

/**
 * The app server's environment. It is parsed once, by `loadServerEnv` (after the `.env` files are
 * loaded), into the services' `config` (src/services.ts); modules take it from there, never from
 * process.env. Embedded defaults need no variable at all: PGlite under .data/, in-memory log, local
 * executor. `.env.example` lists every variable (src/lib/env-example.test.ts keeps it equal).
 */
export const serverSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOSTNAME: z.string().default("0.0.0.0"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgres:// URL")
      .optional(),
    PGLITE_DIR: z.string().default(".data/pglite"),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, "REDIS_URL must be a redis:// URL")
      .optional(),
    /** URL of an Inngest dev server (or the embedded executor); "1" means the default dev server. */
    INNGEST_DEV: z.string().optional(),
    INNGEST_EVENT_KEY: z.string().optional(),
    /**
     * Signs every request the job engine makes to /api/inngest; the app verifies it. Required in
     * production (see inngestClientOptions), where the embedded executor signs with the same key.
     */
    INNGEST_SIGNING_KEY: z.preprocess(
      // Blank is unset, as the embedded executor reads it.
      (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
      z
        .string()
        .regex(
          /^signkey-\w+-[0-9a-fA-F]{64,}$/,
          "INNGEST_SIGNING_KEY must look like signkey-prod-<64 hex digits> (generate one: echo signkey-prod-$(openssl rand -hex 32))",
        )
        .optional(),
    ),
    INNGEST_BASE_URL: z.string().url().optional(),
    /**
     * Without INNGEST_SIGNING_KEY (development): a secret the app and the embedded executor share, so
     * the engine's dashboard can read a run's progress events from the app. `npm run dev` makes one per
     * start; with a signing key that key is used instead.
     */
    GENSTREAM_ENGINE_TOKEN: z.string().min(32, "GENSTREAM_ENGINE_TOKEN must be at least 32 characters").optional(),
    /**
     * Enables test-only stream controls (fault injection, bench load). They exist only when this is
     * "1", which no deployment sets; the end-to-end suite and the benchmark set it explicitly, with a
     * token and a loopback HOSTNAME, without which production refuses to start (test-controls-gate.ts).
     */
    GENSTREAM_TEST_CONTROLS: z.enum(["0", "1"]).default("0"),
    /**
     * The per-run secret every test-control request must carry (`x-genstream-test-token`); required
     * with GENSTREAM_TEST_CONTROLS=1 in production (see src/server/test-controls-gate.ts).
     */
    GENSTREAM_TEST_CONTROLS_TOKEN: z.string().min(32, "GENSTREAM_TEST_CONTROLS_TOKEN must be at least 32 characters").optional(),
    /** Signs session cookies. Required in production (see src/auth/secret.ts); dev and tests use a fallback. */
    BETTER_AUTH_SECRET: z
      .string()
      .min(32, "BETTER_AUTH_SECRET must be at least 32 characters (generate one: openssl rand -base64 32)")
      .optional(),
    /** The public URL of the app (e.g. https://genstream.example.com); unset: localhost / 127.0.0.1 on PORT. */
    BETTER_AUTH_URL: z.string().url("BETTER_AUTH_URL must be a URL such as https://genstream.example.com").optional(),
    /** "1" behind a reverse proxy: trust its X-Forwarded-For for the client's IP (auth rate limits). */
    GENSTREAM_TRUST_PROXY: z.enum(["0", "1"]).default("0"),
    /**
     * A running run with no progress for this long is checked with the job engine's runs API, and
     * marked failed when the engine no longer has it (src/server/run-reconciler.ts).
     */
    GENSTREAM_RUN_CHECK_AFTER_MS: z.coerce
      .number()
      .int()
      .min(100, "GENSTREAM_RUN_CHECK_AFTER_MS must be at least 100 (ms)")
      .max(86_400_000, "GENSTREAM_RUN_CHECK_AFTER_MS must be at most a day (86400000 ms)")
      .default(60_000),
    /** pino level; "silent" turns logging off. */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
    /** json: one JSON object per line (production); pretty: one coloured line per event. Unset: pretty in development on a terminal, else json. */
    LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
    /** The planner's language model (src/generation/model/config.ts); unset: the embedded grammar. */
    ...modelEnvShape,
  })
  .superRefine((env, ctx) => {
    // The model's own cross-field rule (LLM_MODEL with LLM_BASE_URL), reported the same way.
    const model = modelEnvSchema.safeParse(env);
    if (!model.success) for (const issue of model.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  });

export type ServerEnv = z.infer<typeof serverSchema>;

/** Parses an environment; throws naming every bad variable. */
export function parseServerEnv(source: Record<string, string | undefined>): ServerEnv {
  const parsed = serverSchema.safeParse(source);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid environment: ${fields}`);
  }
  return parsed.data;
}

const devFlagOff = (value: string | undefined): boolean => value === "0" || value === "false";

/**
 * The environment of this process: the `.env` files loaded into process.env first (Next's order and
 * precedence, see env-files.ts), then parsed. Called once per process, by whoever builds the services.
 */
export function loadServerEnv(): ServerEnv {
  loadEnvFiles();
  return parseServerEnv(process.env);
}

/** Where the Inngest client sends events when no Cloud key is configured. */
export const DEFAULT_INNGEST_DEV_URL = "http://127.0.0.1:8288";

/**
 * Cloud mode (signatures verified, events sent with the event key to Inngest Cloud or to
 * INNGEST_BASE_URL for a self-hosted Inngest) when keys are set and INNGEST_DEV is not; else dev mode.
 */
export function inngestMode(e: ServerEnv): { kind: "cloud" } | { kind: "dev"; url: string } {
  const devUnset = e.INNGEST_DEV === undefined || devFlagOff(e.INNGEST_DEV);
  if (devUnset && (e.INNGEST_EVENT_KEY || e.INNGEST_SIGNING_KEY)) return { kind: "cloud" };
  const dev = e.INNGEST_DEV;
  if (dev === undefined || dev === "1" || dev === "true") return { kind: "dev", url: DEFAULT_INNGEST_DEV_URL };
  return { kind: "dev", url: dev };
}

export class MissingInngestSigningKeyError extends Error {
  override readonly name = "MissingInngestSigningKeyError";
}

/** Options of the app's Inngest client (see inngest/client.ts). */
export type InngestClientOptions =
  { isDev: true; baseUrl: string } | { isDev: false; signingKey?: string; baseUrl?: string; eventKey?: string };

/**
 * Development talks to the Inngest dev server or the embedded executor unsigned (dev mode). Outside
 * development the SDK runs in cloud mode, which verifies the signature of every request to
 * /api/inngest, so nobody but the job engine can drive a run: with Inngest Cloud (event key) as
 * usual; with the embedded executor (INNGEST_DEV=<url>, what `npm start` runs) the executor signs
 * with INNGEST_SIGNING_KEY. Without a key the SDK refuses every call (it fails closed); server.ts
 * refuses to start before that (requireInngestSigningKey). Never throws: `next build` evaluates
 * the route module.
 */
export function inngestClientOptions(e: ServerEnv): InngestClientOptions {
  const mode = inngestMode(e);
  const signingKey = e.INNGEST_SIGNING_KEY ? { signingKey: e.INNGEST_SIGNING_KEY } : {};
  if (mode.kind === "cloud") return { isDev: false, ...signingKey };
  if (e.NODE_ENV !== "production") return { isDev: true, baseUrl: mode.url };
  // The executor's /e/:key takes any key; an event key only names the sender.
  return { isDev: false, ...signingKey, baseUrl: mode.url, eventKey: e.INNGEST_EVENT_KEY ?? "genstream-local" };
}

/** Production cannot verify the job engine's requests without INNGEST_SIGNING_KEY: it does not start. */
export function requireInngestSigningKey(e: ServerEnv): void {
  if (e.NODE_ENV !== "production" || e.INNGEST_SIGNING_KEY) return;
  throw new MissingInngestSigningKeyError(
    "INNGEST_SIGNING_KEY is not set. In production /api/inngest accepts only signed requests, and the embedded executor signs them with this key: generate one with `echo signkey-prod-$(openssl rand -hex 32)` and set INNGEST_SIGNING_KEY for both processes of `npm start`.",
  );
}
