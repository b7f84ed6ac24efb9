import { loadEnvFiles } from "./env-files";

/**
 * Imported FIRST by every entry point (server.ts, inngest/local/main.ts, inngest/dev.ts,
 * scripts/migrate.ts): ES modules evaluate their imports in order, so the `.env` files are in
 * process.env before any module that reads the environment while it loads (stream limits, retention).
 */
loadEnvFiles();
