import { z } from "zod";
import { decideDashboard, type DashboardDecision } from "./dashboard/access";
import { SCHEMA_NAME, type StoreTarget } from "./store";

export const DEFAULT_EXECUTOR_PORT = 8288;

export const executorEnvSchema = z.object({
  GENSTREAM_EXECUTOR: z.enum(["on", "off", "auto"]).optional(),
  GENSTREAM_EXECUTOR_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  GENSTREAM_EXECUTOR_HOST: z.string().min(1).optional(),
  GENSTREAM_APP_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(1).max(65535).optional(),
  INNGEST_DEV: z.string().optional(),
  INNGEST_EVENT_KEY: z.string().optional(),
  INNGEST_SIGNING_KEY: z.string().optional(),
  GENSTREAM_DASHBOARD: z.enum(["on", "off"]).optional(),
  /** Development: the token the app shares with the engine for the dashboard's reads (npm run dev makes one). */
  GENSTREAM_ENGINE_TOKEN: z.string().min(32).optional(),
  NODE_ENV: z.string().optional(),
  /** "memory": nothing survives a restart (the executor before it had a store). */
  GENSTREAM_EXECUTOR_STORE: z.enum(["database", "memory"]).optional(),
  /** The app's PostgreSQL: the executor keeps its tables in a schema of its own there. */
  DATABASE_URL: z.string().trim().optional(),
  GENSTREAM_EXECUTOR_SCHEMA: z.string().regex(SCHEMA_NAME, "a lowercase SQL identifier").optional(),
  /** Without DATABASE_URL: the executor's own PGlite (PGlite is single-process; the app has PGLITE_DIR). */
  GENSTREAM_EXECUTOR_PGLITE_DIR: z.string().min(1).optional(),
});

export const DEFAULT_EXECUTOR_SCHEMA = "genstream_engine";
export const DEFAULT_EXECUTOR_PGLITE_DIR = ".data/engine";

export type CliDecision =
  /** `signingKey`: sign requests to the app (present only when INNGEST_SIGNING_KEY is set). */
  | {
      start: true;
      port: number;
      host: string;
      appUrl: string;
      store: StoreTarget;
      signingKey?: string;
      engineToken?: string;
      dashboard: DashboardDecision;
    }
  | { start: false; reason: string };

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Read the executor's settings from the environment, or say why a real Inngest is in charge. */
export function resolveCliOptions(env: Record<string, string | undefined>): CliDecision {
  const parsed = executorEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const e = parsed.data;
  const dev = e.INNGEST_DEV?.trim() || undefined;
  if (e.GENSTREAM_EXECUTOR === "off") return { start: false, reason: "GENSTREAM_EXECUTOR=off" };
  if (e.INNGEST_EVENT_KEY && dev === undefined) {
    return { start: false, reason: "INNGEST_EVENT_KEY is set without INNGEST_DEV: Inngest Cloud is configured" };
  }
  if (dev === "0" || dev === "false") return { start: false, reason: `INNGEST_DEV=${dev}: the SDK is in cloud mode` };

  let devPort: number | undefined;
  if (dev !== undefined && dev !== "1" && dev !== "true") {
    let url: URL;
    try {
      url = new URL(dev);
    } catch {
      throw new Error(`invalid environment: INNGEST_DEV must be 1, true or a URL, got "${dev}"`);
    }
    if (!LOCAL_HOSTS.has(url.hostname)) {
      return { start: false, reason: `INNGEST_DEV points at ${url.host}: a real Inngest dev server is configured` };
    }
    devPort = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  }
  const signingKey = e.INNGEST_SIGNING_KEY?.trim() || undefined;
  const host = e.GENSTREAM_EXECUTOR_HOST ?? "127.0.0.1";
  const schema = e.GENSTREAM_EXECUTOR_SCHEMA ?? DEFAULT_EXECUTOR_SCHEMA;
  const store: StoreTarget =
    e.GENSTREAM_EXECUTOR_STORE === "memory"
      ? { kind: "memory" }
      : e.DATABASE_URL
        ? { kind: "postgres", url: e.DATABASE_URL, schema }
        : { kind: "pglite", dir: e.GENSTREAM_EXECUTOR_PGLITE_DIR ?? DEFAULT_EXECUTOR_PGLITE_DIR, schema };
  return {
    start: true,
    port: e.GENSTREAM_EXECUTOR_PORT ?? devPort ?? DEFAULT_EXECUTOR_PORT,
    host,
    appUrl: e.GENSTREAM_APP_URL ?? `http://127.0.0.1:${e.PORT ?? 3000}/api/inngest`,
    store,
    ...(signingKey === undefined ? {} : { signingKey }),
    ...(e.GENSTREAM_ENGINE_TOKEN === undefined ? {} : { engineToken: e.GENSTREAM_ENGINE_TOKEN }),
    dashboard: decideDashboard({ setting: e.GENSTREAM_DASHBOARD, signingKey, host, nodeEnv: e.NODE_ENV }),
  };
}
