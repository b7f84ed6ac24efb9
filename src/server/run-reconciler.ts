import type { Logger } from "pino";
import type { Db } from "../db/client";
import type { Message, Run } from "../db/schema";
import { listDispatchedWithoutRun } from "../db/queries/messages";
import { ensureRun, listRunningRunsStartedBefore } from "../db/queries/runs";
import { errorMessage } from "../lib/errors";
import { ENGINE_CANCELLED_REASON, LOST_MESSAGE_REASON, LOST_RUN_REASON } from "../../inngest/functions/replies";
import { RunReporter, type ReporterDeps, type RunOutcome } from "../../inngest/run-reporter";
import { EngineRunsUnavailableError, type EngineRunState, type EngineRuns } from "./engine-runs";

/** Runs read from the database at a time; a pass pages through every stale one. */
const PAGE_SIZE = 100;

/**
 * How far back a message without a run is looked for: Inngest keeps an event's id (its dedupe key)
 * and the event itself for about a day, so an older "not found" would not mean "lost".
 */
const MESSAGE_WINDOW_MS = 24 * 60 * 60_000;

/** The run id a lost message's failed run gets: the same on every instance and every pass, so it is stored once. */
export function lostMessageRunId(messageId: string): string {
  return `lost-${messageId}`;
}

/**
 * What to do with a run the app has as running and the engine has as `engine`: the engine still
 * works on it (keep), cancelled it without telling the app, or ended or forgot it (lost). Anything
 * the engine has as active, even a status this code does not know, is kept: a wrong "failed" is
 * worse than a late one.
 */
export function reconcileOutcome(engine: EngineRunState): Extract<RunOutcome, { status: "failed" | "cancelled" }> | null {
  if (engine.kind === "unknown") return { status: "failed", reason: LOST_RUN_REASON };
  if (engine.status === "Cancelled") return { status: "cancelled", reason: ENGINE_CANCELLED_REASON };
  if (engine.status === "Completed" || engine.status === "Failed") return { status: "failed", reason: LOST_RUN_REASON };
  return null;
}

/** When the run last showed progress in the database: its start, or the latest step start or end. */
export function lastProgressAt(run: Pick<Run, "startedAt" | "steps">): number {
  let last = run.startedAt.getTime();
  for (const step of run.steps) last = Math.max(last, step.startedAt ?? 0, step.completedAt ?? 0);
  return last;
}

export interface RunReconcilerOptions {
  db: Db;
  engine: EngineRuns;
  /** How a run is ended and told to the tabs (the one way: RunReporter.finish). */
  reporter: Omit<ReporterDeps, "db">;
  log: Logger;
  /** A running run without progress for this long is checked with the engine. */
  staleAfterMs: number;
  now?: () => number;
}

export interface ReconcilePass {
  checked: number;
  failed: number;
  cancelled: number;
  /** Messages the engine had accepted and then lost before their run started: each got a failed run. */
  lostMessages: number;
  /** Lookups the engine could not answer (the pass stops at the first the engine as a whole could not: the rest wait for the next). */
  unavailable: number;
}

/**
 * Genstream does not trust one engine's memory: an in-memory engine that restarted (`inngest dev`,
 * the embedded executor without its store) or an operator's cancel in the engine's dashboard leaves
 * the app's run "running" with nobody to finish it. Every `staleAfterMs / 2` (at most every 30 s)
 * the reconciler asks the engine about each running run without progress for `staleAfterMs`, and
 * ends those it no longer works on, through RunReporter.finish: stored with the assistant's reply,
 * `run.failed` (or `run.cancelled`) published to every tab. An engine that cannot be asked proves
 * nothing, so those runs wait. Every instance may run it: finishing is transactional and the event
 * is keyed, so two instances finishing the same run store and publish it once.
 */
export class RunReconciler {
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<unknown> | null = null;
  private stopped = true;
  private engineDown = false;

  constructor(private readonly options: RunReconcilerOptions) {
    this.now = options.now ?? Date.now;
  }

  get intervalMs(): number {
    return Math.min(30_000, Math.max(100, Math.floor(this.options.staleAfterMs / 2)));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops the schedule and waits for a pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const pass = this.pass().catch((error: unknown) => this.options.log.error({ err: errorMessage(error) }, "run reconcile pass failed"));
      this.inFlight = pass;
      void pass.finally(() => this.schedule());
    }, this.intervalMs);
    // A pending check never keeps the process alive.
    this.timer.unref();
  }

  /** One look at the stale running runs. */
  async pass(): Promise<ReconcilePass> {
    const { db, staleAfterMs } = this.options;
    const cutoff = this.now() - staleAfterMs;
    const result: ReconcilePass = { checked: 0, failed: 0, cancelled: 0, lostMessages: 0, unavailable: 0 };
    // An engine that cannot be asked about one run cannot about the next: the rest wait for the next pass.
    const runsDone = await eachPage(
      (after: Run | null) => listRunningRunsStartedBefore(db, new Date(cutoff), after, PAGE_SIZE),
      (run) => this.check(run, cutoff, result),
    );
    if (!runsDone) return result;
    const window = { from: new Date(this.now() - MESSAGE_WINDOW_MS), before: new Date(cutoff) };
    await eachPage(
      (after: Message | null) => listDispatchedWithoutRun(db, window, after, PAGE_SIZE),
      (message) => this.checkMessage(message, result),
    );
    return result;
  }

  /**
   * One question to the engine. "refused": it would not tell about this one (an id it does not
   * take), which waits while the pass goes on; "down": it cannot be asked at all, so the pass stops.
   */
  private async ask<T>(
    question: () => Promise<T>,
    subject: Record<string, string>,
    result: ReconcilePass,
  ): Promise<T | "refused" | "down"> {
    const { log } = this.options;
    result.checked += 1;
    try {
      const answer = await question();
      if (this.engineDown) log.info({}, "job engine answers the reconciler again");
      this.engineDown = false;
      return answer;
    } catch (error) {
      if (!(error instanceof EngineRunsUnavailableError)) throw error;
      result.unavailable += 1;
      if (error.scope === "run") {
        log.debug({ ...subject, err: error.message }, "job engine cannot tell about this one; it waits");
        return "refused";
      }
      if (!this.engineDown) log.warn({ ...subject, err: error.message }, "job engine cannot be asked; runs and messages wait");
      this.engineDown = true;
      return "down";
    }
  }

  /**
   * A message the engine accepted long ago and that still has no run: the run may be queued (the
   * engine has the event: it waits), or the engine lost the event (an in-memory engine restarted).
   * A lost one gets a run that failed, through the one way runs end, so every tab shows the
   * reason and Retry, and the chat the reply. False when the engine could not be asked.
   */
  private async checkMessage(message: Message, result: ReconcilePass): Promise<boolean> {
    const { db, engine, log } = this.options;
    const eventId = message.engineEventId;
    if (!eventId) return true;
    const state = await this.ask(() => engine.eventRuns(eventId), { messageId: message.id, eventId }, result);
    if (state === "down") return false;
    if (state === "refused" || state.kind === "known") return true;
    const ref = { projectId: message.projectId, messageId: message.id, runId: lostMessageRunId(message.id) };
    await ensureRun(db, { ...ref, startedAt: message.createdAt });
    const finished = await new RunReporter({ ...this.options.reporter, db }, ref).finish({ status: "failed", reason: LOST_MESSAGE_REASON });
    if (!finished.finishedNow) return true;
    result.lostMessages += 1;
    log.warn(
      {
        projectId: message.projectId,
        messageId: message.id,
        eventId: message.engineEventId,
        runId: ref.runId,
        ageMs: this.now() - message.createdAt.getTime(),
      },
      "message reconciled with the job engine: its event was lost before a run started",
    );
    return true;
  }

  /** Checks one run; false when the engine could not be asked. */
  private async check(run: Run, cutoff: number, result: ReconcilePass): Promise<boolean> {
    const { db, engine, log } = this.options;
    if (lastProgressAt(run) > cutoff) return true;
    const state = await this.ask(() => engine.lookup(run.id), { runId: run.id }, result);
    if (state === "down") return false;
    if (state === "refused") return true;
    const outcome = reconcileOutcome(state);
    if (!outcome) return true;
    const reporter = new RunReporter(
      { ...this.options.reporter, db },
      { projectId: run.projectId, messageId: run.messageId, runId: run.id },
    );
    const finished = await reporter.finish(outcome);
    if (!finished.finishedNow) return true;
    result[outcome.status] += 1;
    log.warn(
      {
        projectId: run.projectId,
        runId: run.id,
        engine: state.kind === "known" ? state.status : "unknown",
        outcome: outcome.status,
        idleMs: this.now() - lastProgressAt(run),
      },
      "run reconciled with the job engine",
    );
    return true;
  }
}

/** Visits every row of a keyset-paged query, page by page, until `visit` says stop (false); false if it did. */
async function eachPage<T>(read: (after: T | null) => Promise<T[]>, visit: (row: T) => Promise<boolean>): Promise<boolean> {
  for (let after: T | null = null; ;) {
    const page = await read(after);
    for (const row of page) if (!(await visit(row))) return false;
    if (page.length < PAGE_SIZE) return true;
    after = page[page.length - 1]!;
  }
}
