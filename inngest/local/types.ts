import type { Expression } from "./expression";

/** An event as stored and as handed to functions. */
export interface StoredEvent {
  /** The executor's own id (ULID); `inngest.send()` gets these back. */
  internalId: string;
  name: string;
  data: Record<string, unknown>;
  /** The sender's id (dedupe key) if given, else the internal id. */
  id: string;
  ts: number;
  [extra: string]: unknown;
}

export interface ConcurrencyRule {
  limit: number;
  scope: "fn" | "env" | "account";
  key?: Expression;
}

export interface CancelRule {
  event: string;
  if?: Expression;
  timeoutMs?: number;
}

export interface Trigger {
  event: string;
  expression?: Expression;
}

/** A synced function the executor can run. */
export interface FunctionDef {
  id: string;
  name: string;
  appId: string;
  /** The app's step URL for this function (carries `fnId` and `stepId=step`). */
  url: string;
  triggers: Trigger[];
  /** `retries.attempts` + 1. */
  maxAttempts: number;
  concurrency: ConcurrencyRule[];
  idempotency?: Expression;
  cancel: CancelRule[];
}

export interface RefusedFunction {
  id: string;
  reasons: string[];
}

export type RunStatus = "Queued" | "Running" | "Completed" | "Failed" | "Cancelled";

export type StepStatus = "Planned" | "Running" | "Retrying" | "Sleeping" | "Waiting" | "Completed" | "Failed";

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** One step of a run's timeline, keyed by its hashed id. */
export interface StepView {
  id: string;
  name: string;
  op: string;
  status: StepStatus;
  attempts: number;
  startedAt: string;
  endedAt?: string;
  output?: unknown;
  error?: SerializedError;
}

/** What /v1/runs serves, and what waitForRun resolves with. */
export interface RunView {
  runId: string;
  functionId: string;
  status: RunStatus;
  eventId: string;
  event: StoredEvent;
  queuedAt: string;
  startedAt?: string;
  endedAt?: string;
  output?: unknown;
  error?: SerializedError;
  timeline: StepView[];
}

export interface EventOutcome {
  eventId: string;
  runIds: string[];
  /** Why the event started fewer runs than functions it matched. */
  skipped: { functionId?: string; reason: string }[];
}

export interface SyncResult {
  ok: boolean;
  at: string;
  functions: string[];
  refused: RefusedFunction[];
  error?: string;
}
