import { getDb } from "../src/db/client";
import { getStreamingService } from "../src/streaming";
import { log } from "../src/lib/logger";
import { testControlsEnabled } from "../src/server/test-controls";
import { faultPoint } from "../src/server/faults";
import type { ReporterDeps } from "./run-reporter";

/** The process-wide services a job step uses (both live on globalThis). */
export async function defaultDeps(): Promise<ReporterDeps> {
  const handle = await getDb();
  // Test-only: registered faults may fail or hold a step (never when test controls are off).
  return { db: handle.db, streaming: getStreamingService(), log, ...(testControlsEnabled() ? { faults: { point: faultPoint } } : {}) };
}
