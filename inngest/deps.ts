import { getDb } from "../src/db/client";
import { getStreamingService } from "../src/streaming";
import { log } from "../src/lib/logger";
import type { ReporterDeps } from "./run-reporter";

/** The process-wide services a job step uses (both live on globalThis). */
export async function defaultDeps(): Promise<ReporterDeps> {
  const handle = await getDb();
  return { db: handle.db, streaming: getStreamingService(), log };
}
