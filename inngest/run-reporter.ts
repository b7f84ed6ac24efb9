import type pino from "pino";
import type { Db } from "../src/db/client";
import { ensureRun, updateStep } from "../src/db/queries/runs";
import type { LoggedEvent, ProgressEvent, StepName } from "../src/streaming/protocol";
import type { Metrics } from "../src/lib/metrics";
import { STEP_NAMES } from "../src/streaming/protocol";
import { publishThroughOutage } from "../src/streaming/guarded-log";

/** What a step needs to publish progress: the project's log (via the streaming service) and the database. */
export interface ReporterDeps {
  db: Db;
  streaming: { publish(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null> };
  log: pino.Logger;
  metrics: Pick<Metrics, "runDuration">;
  /** Test-only fault points (src/server/faults.ts); absent unless the server runs with test controls. */
  faults?: StepFaults;
}

/** Where a test may fail or hold a step: `at` 0 right after step.started, n after the n-th step.progress. */
export interface StepFaults {
  point(ref: { projectId: string; runId: string }, step: StepName, attempt: number, at: number): Promise<void>;
}

export interface RunRef {
  projectId: string;
  messageId: string;
  runId: string;
}

export type ReportProgress = (message: string, extra?: { partial?: string; fraction?: number }) => Promise<void>;

/**
 * Publishes a run's progress. Every key is derived from runId + step + sequence, so a retried step
 * re-emits the same keys and the log drops them. Only `step.started` also carries the attempt: a
 * retry is a new fact the panel shows ("attempt 2"), not a duplicate. The database is written before each publish, so a
 * page rendered at cursor C and replayed after C never misses a state.
 */
export class RunReporter {
  constructor(
    private readonly deps: ReporterDeps,
    private readonly ref: RunRef,
  ) {}

  /** Waits out an event log outage (bounded, with backoff) rather than failing the step at once. */
  private publish(key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    const fullKey = `${this.ref.runId}:${key}`;
    return publishThroughOutage(() => this.deps.streaming.publish(this.ref.projectId, fullKey, event), {
      logger: this.deps.log,
      context: { projectId: this.ref.projectId, runId: this.ref.runId, key: fullKey },
    });
  }

  private base() {
    return { ...this.ref, at: Date.now() };
  }

  async start(): Promise<void> {
    await ensureRun(this.deps.db, { ...this.ref, startedAt: new Date() });
    await this.publish("run.started", { type: "run.started", ...this.base(), steps: [...STEP_NAMES] });
  }

  /** Runs one step's body between step.started and step.completed, with numbered progress events. */
  async step<T>(name: StepName, attempt: number, body: (report: ReportProgress) => Promise<{ value: T; summary?: string }>): Promise<T> {
    const startedAt = Date.now();
    await updateStep(this.deps.db, this.ref.runId, name, { state: "running", attempt, startedAt, completedAt: null, durationMs: null });
    await this.publish(`${name}:started:${attempt}`, { type: "step.started", ...this.base(), step: name, attempt });
    const faults = this.deps.faults;
    await faults?.point(this.ref, name, attempt, 0);
    let seq = 0;
    const report: ReportProgress = async (message, extra = {}) => {
      await this.publish(`${name}:progress:${seq++}`, { type: "step.progress", ...this.base(), step: name, message, ...extra });
      await faults?.point(this.ref, name, attempt, seq);
    };
    const { value, summary } = await body(report);
    const completedAt = Date.now();
    const durationMs = completedAt - startedAt;
    await updateStep(this.deps.db, this.ref.runId, name, { state: "completed", completedAt, durationMs });
    await this.publish(`${name}:completed`, { type: "step.completed", ...this.base(), step: name, durationMs, ...(summary ? { summary } : {}) });
    this.deps.log.debug({ runId: this.ref.runId, step: name, durationMs }, "step completed");
    return value;
  }

  async completed(input: { durationMs: number; assistantMessageId: string; artifactVersion: number | null }): Promise<void> {
    const logged = await this.publish("run.completed", { type: "run.completed", ...this.base(), ...input });
    // Observed once per run: a retried publish finds its key logged and returns null.
    if (logged) this.deps.metrics.runDuration.observe({ outcome: "completed" }, input.durationMs / 1000);
  }

  async failed(reason: string, step: StepName | undefined, durationMs: number | null): Promise<void> {
    const logged = await this.publish("run.failed", { type: "run.failed", ...this.base(), reason, ...(step ? { step } : {}) });
    if (logged && durationMs !== null) this.deps.metrics.runDuration.observe({ outcome: "failed" }, durationMs / 1000);
  }
}
