import type { ExecutorEvents, HealthView, ReceivedEvent, RunFilter } from "../executor";
import type { IngestEvent } from "../ingest-schema";
import type { FunctionDef, RunView, SyncResult } from "../types";

/** What the dashboard needs from the executor (LocalExecutor has it all). */
export interface DashboardApi {
  listRuns(filter?: RunFilter): RunView[];
  getRun(runId: string): RunView | undefined;
  cancelRun(runId: string): boolean;
  rerun(runId: string): Promise<string | undefined>;
  ingest(events: IngestEvent[]): string[];
  listEvents(): ReceivedEvent[];
  getEvent(internalId: string): ReceivedEvent | undefined;
  listFunctions(): FunctionDef[];
  health(): HealthView;
  sync(reason?: string): Promise<SyncResult>;
  on<K extends keyof ExecutorEvents>(event: K, listener: (...args: ExecutorEvents[K]) => void): unknown;
  off<K extends keyof ExecutorEvents>(event: K, listener: (...args: ExecutorEvents[K]) => void): unknown;
}
