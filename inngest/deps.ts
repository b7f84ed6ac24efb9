import { services } from "../src/services";
import { modelConfigFromEnv } from "../src/generation/model";
import type { ReporterDeps } from "./run-reporter";

/** What a job step uses, from the process's services (src/services.ts). */
export async function defaultDeps(): Promise<ReporterDeps> {
  const { config, db, streaming, logger, metrics, faults } = await services();
  return { db: db.db, streaming, log: logger, metrics, model: modelConfigFromEnv(config), ...(faults ? { faults } : {}) };
}
