import { createLogger } from "./logger";

/**
 * The logger of the command-line processes (the embedded executor, `npm run dev`'s launcher,
 * scripts/migrate.ts): one module instance per process, no hot reload. The app server's logger is
 * its services' (src/services.ts). The entry points load `.env` before this module is evaluated.
 */
export const log = createLogger({
  level: process.env.LOG_LEVEL,
  format: process.env.LOG_FORMAT === "pretty" || process.env.LOG_FORMAT === "json" ? process.env.LOG_FORMAT : undefined,
  nodeEnv: process.env.NODE_ENV ?? "development",
});
