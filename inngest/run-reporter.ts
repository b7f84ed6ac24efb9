import type pino from "pino";
import type { Db } from "../src/db/client";
import type { RunStatus } from "../src/streaming/protocol";
import { ensureRun, findRun, finishRun, updateStep } from "../src/db/queries/runs";
import type { LoggedEvent, ProgressEvent, StepName } from "../src/streaming/protocol";
import type { Metrics } from "../src/lib/metrics";
import type { ModelConfig } from "../src/generation/model";
import { errorMessage } from "../src/lib/errors";
import { STEP_NAMES } from "../src/streaming/protocol";
import { isEventLogOutage, publishThroughOutage } from "../src/streaming/guarded-log";
import { cancelledReply, failureReply } from "./functions/replies";

/**
 * Points inside every step where a fault may be injected (tests, through the job's dependencies):
 * `at: 0` right after the step's step.started, `at: n` right after its n-th step.progress. It may
 * throw (the step fails like any dependency would) or wait.
 */
export interface StepFaults {
  point(ref: { projectId: string; runId: string }, step: StepName, attempt: number, at: number): Promise<void>;
}

/** What a run needs to report: the project's log (via the streaming service) and the database. */
export interface ReporterDeps {
  db: Db;
  streaming: {
    publish(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null>;
    /** Every event of the project's log from now on, from any instance (StreamingService.follow). */
    follow(projectId: string, listener: (logged: LoggedEvent) => void): Promise<() => void>;
  };
  log: pino.Logger;
  metrics: Pick<Metrics, "runDuration">;
  /** Test-only fault points (src/server/faults.ts); absent unless the server runs with test controls. */
  faults?: StepFaults;
  /** The planner's language model (LLM_BASE_URL); absent: the embedded grammar plans. */
  model?: ModelConfig | null;
}

export interface RunRef {
  projectId: string;
  messageId: string;
  runId: string;
}

export type ReportProgress = (message: string, extra?: { partial?: string; fraction?: number }) => Promise<void>;

/**
 * Text a step writes as it goes (the model writing the plan): each call publishes one delta as a
 * `step.text` event of this attempt, at the offset where it starts. Keyed by attempt, so a retry's
 * text replaces the failed attempt's on every tab instead of being dropped as a duplicate of it.
 */
export type ReportText = (delta: string) => Promise<void>;

/** A step's work: its result (memoized by the engine, so keep it to ids and small summaries) and a one-line summary. */
export type StepBody<T> = (report: ReportProgress, writeText: ReportText) => Promise<{ value: T; summary?: string }>;

/** The engine's step tool, as far as a run's steps use it (Inngest's `step`). */
export interface StepTools {
  run(id: string, fn: () => Promise<unknown>): Promise<unknown>;
}

/** How a run ends. Completion carries the reply; failure and cancel replies are derived from the reason. */
export type RunOutcome =
  | { status: "completed"; reply: string; artifactVersion: number | null }
  | { status: "failed"; reason: string }
  | { status: "cancelled"; reason: string };

export interface FinishResult {
  /** This call stored the outcome (false: a retry of the same finish, or the run had already ended). */
  finishedNow: boolean;
  /** The run's stored status afterwards; null when there is no such run. */
  status: RunStatus | null;
}

/** The one id of a run's assistant message: every write of a run's reply lands on the same row. */
export function assistantMessageId(runId: string): string {
  return `a${runId.toLowerCase()}`;
}

/**
 * Publishes a run's progress and finishes it. Every key is derived from runId + step + sequence, so
 * a retried step re-emits the same keys and the log drops them. Only `step.started` also carries the
 * attempt: a retry is a new fact the panel shows ("attempt 2"), not a duplicate. The database is
 * written before each publish, so a page rendered at cursor C and replayed after C never misses a state.
 */
export class RunReporter {
  constructor(
    private readonly deps: ReporterDeps,
    private readonly ref: RunRef,
  ) {}

  /** Waits out an event log outage (bounded, with backoff) rather than failing the step at once. */
  private publish(key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    return publishThroughOutage(() => this.publishOnce(key, event), {
      logger: this.deps.log,
      context: { projectId: this.ref.projectId, runId: this.ref.runId, key: this.fullKey(key) },
    });
  }

  private publishOnce(key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    return this.deps.streaming.publish(this.ref.projectId, this.fullKey(key), event);
  }

  private fullKey(key: string): string {
    return `${this.ref.runId}:${key}`;
  }

  private base() {
    return { ...this.ref, at: Date.now() };
  }

  /** Stores the run and publishes run.started; idempotent, so a retried first step repeats it harmlessly. */
  private async start(): Promise<void> {
    await ensureRun(this.deps.db, { ...this.ref, startedAt: new Date() });
    await this.publish("run.started", { type: "run.started", ...this.base(), steps: [...STEP_NAMES] });
  }

  /**
   * The run's steps for one invocation of the job: `run(name, body)` is `step.run(name, …)` around
   * the reporter's step, with the invocation's attempt threaded through.
   */
  steps(step: StepTools, attempt: number): { run<T>(name: StepName, body: StepBody<T>): Promise<T> } {
    return {
      // The engine hands back the body's value as memoized JSON; values are plain data, so it is T.
      run: async <T>(name: StepName, body: StepBody<T>) => (await step.run(name, () => this.step(name, attempt, body))) as T,
    };
  }

  /**
   * Runs one step's body between step.started and step.completed, with numbered progress events and
   * a fault point after each. The first step of the sequence also opens the run.
   */
  async step<T>(name: StepName, attempt: number, body: StepBody<T>): Promise<T> {
    if (name === STEP_NAMES[0]) await this.start();
    const startedAt = Date.now();
    await updateStep(this.deps.db, this.ref.runId, name, { state: "running", attempt, startedAt, completedAt: null, durationMs: null });
    await this.publish(`${name}:started:${attempt}`, { type: "step.started", ...this.base(), step: name, attempt });
    const faults = this.deps.faults;
    const point = { projectId: this.ref.projectId, runId: this.ref.runId };
    await faults?.point(point, name, attempt, 0);
    let seq = 0;
    const report: ReportProgress = async (message, extra = {}) => {
      await this.publish(`${name}:progress:${seq++}`, { type: "step.progress", ...this.base(), step: name, message, ...extra });
      await faults?.point(point, name, attempt, seq);
    };
    let textSeq = 0;
    let textOffset = 0;
    const writeText: ReportText = async (text) => {
      if (text.length === 0) return;
      const offset = textOffset;
      textOffset += text.length;
      await this.publish(`${name}:text:${attempt}:${textSeq++}`, { type: "step.text", ...this.base(), step: name, attempt, offset, text });
    };
    const { value, summary } = await body(report, writeText);
    const completedAt = Date.now();
    const durationMs = completedAt - startedAt;
    await updateStep(this.deps.db, this.ref.runId, name, { state: "completed", completedAt, durationMs });
    await this.publish(`${name}:completed`, {
      type: "step.completed",
      ...this.base(),
      step: name,
      durationMs,
      ...(summary ? { summary } : {}),
    });
    this.deps.log.debug({ runId: this.ref.runId, step: name, durationMs }, "step completed");
    return value;
  }

  /**
   * The one way a run ends (completion, the job's onFailure, a user's cancel): stores its final
   * state and the assistant's reply in one transaction, then publishes the terminal event. A run
   * that had already ended otherwise keeps that end: nothing is written and no event is published
   * (a late onFailure never follows run.completed or run.cancelled with run.failed). A repeat of the
   * same finish (a retried step) publishes again under the same key, which the log drops.
   *
   * `whenLogDown: "defer"` (a user waiting on the answer) does not wait out an event log outage:
   * the outcome is stored, and the event follows in the background once the log is back.
   */
  async finish(outcome: RunOutcome, options: { whenLogDown?: "wait" | "defer" } = {}): Promise<FinishResult> {
    const { db, log } = this.deps;
    const { projectId, runId } = this.ref;
    const before = outcome.status === "failed" ? await findRun(db, runId) : null;
    const failedStep = before?.steps.find((s) => s.state === "running")?.name;
    const reason = outcome.status === "completed" ? null : outcome.reason;
    const content =
      outcome.status === "completed"
        ? outcome.reply
        : outcome.status === "failed"
          ? failureReply(outcome.reason, failedStep)
          : cancelledReply(outcome.reason);
    const artifactVersion = outcome.status === "completed" ? outcome.artifactVersion : null;
    const stored = await finishRun(db, {
      runId,
      status: outcome.status,
      reason,
      ...(failedStep ? { failedStep } : {}),
      reply: { id: assistantMessageId(runId), projectId, content, artifactVersion },
    });
    if (stored && stored.run.status !== outcome.status) {
      log.info({ projectId, runId, status: stored.run.status, outcome: outcome.status }, "run had already finished; its end stands");
      return { finishedNow: false, status: stored.run.status };
    }
    // No run row: the run failed before it was stored. Nothing to store, but the tabs are told.
    const durationMs = stored?.run.finishedAt ? stored.run.finishedAt.getTime() - stored.run.startedAt.getTime() : null;
    if (stored?.finishedNow && durationMs !== null) this.deps.metrics.runDuration.observe({ outcome: outcome.status }, durationMs / 1000);

    const key = `run.${outcome.status}`;
    const event: ProgressEvent =
      outcome.status === "completed"
        ? {
            type: "run.completed",
            ...this.base(),
            durationMs: durationMs ?? 0,
            assistantMessageId: assistantMessageId(runId),
            artifactVersion,
          }
        : outcome.status === "failed"
          ? { type: "run.failed", ...this.base(), reason: outcome.reason, ...(failedStep ? { step: failedStep } : {}) }
          : { type: "run.cancelled", ...this.base(), reason: outcome.reason };
    const fields = { projectId, runId, ...(failedStep ? { step: failedStep } : {}), ...(reason ? { reason } : {}) };
    if (options.whenLogDown === "defer") await this.publishOrDefer(key, event, `run ${outcome.status}`);
    else await this.publish(key, event);
    // A repeat of a finish already stored (a retried step, the engine's echo of the app's own cancel)
    // republishes under the same key for safety, but the run ended once: it is logged once.
    if (stored && !stored.finishedNow) log.debug(fields, "run finish repeated; its end stands");
    else if (outcome.status === "failed") log.warn(fields, "run failed");
    else log.info(fields, outcome.status === "completed" ? "run completed" : "run cancelled");
    return { finishedNow: stored?.finishedNow ?? false, status: stored?.run.status ?? null };
  }

  private async publishOrDefer(key: string, event: ProgressEvent, done: string): Promise<void> {
    try {
      await this.publishOnce(key, event);
    } catch (error) {
      if (!isEventLogOutage(error)) throw error;
      // The outcome is stored; the event follows once the log is back (idempotent by key).
      const context = { projectId: this.ref.projectId, runId: this.ref.runId };
      this.deps.log.warn({ ...context, err: errorMessage(error) }, `${done}; ${event.type} deferred until the event log is back`);
      void publishThroughOutage(() => this.publishOnce(key, event), { logger: this.deps.log, context }).catch((err: unknown) =>
        this.deps.log.error({ ...context, err: errorMessage(err) }, `${event.type} could not be published`),
      );
    }
  }
}
