import { log } from "../../src/lib/process-log";
import { callApp, wireEvent, type CallOutcome, type Op, type StepState } from "./app-client";
import type { BackoffPolicy } from "./backoff";
import type { Acquisition, ConcurrencyGate } from "./concurrency";
import { parseDuration, sleepDelayMs } from "./duration";
import { toSerializedError } from "./errors";
import { compileExpression, type Expression } from "./expression";
import {
  ENGINE_RESTARTED,
  resumeRecord,
  runStatusOf,
  type Call,
  type RunPhase,
  type RunRecord,
  type Timer,
  type TimerAction,
  type WaitRecord,
} from "./run-state";
import { Timeline } from "./timeline";
import type { FunctionDef, RunView, SerializedError, StepView, StoredEvent } from "./types";

/** A `step.waitForEvent` in progress, matched by the executor against incoming events. */
export interface EventWait {
  runId: string;
  event: string;
  matches(incoming: StoredEvent): boolean;
  resolve(incoming: StoredEvent): void;
}

/** What a run needs from the executor around it. */
export interface RunHost {
  functionDef(id: string): FunctionDef | undefined;
  readonly gate: ConcurrencyGate;
  readonly backoff: BackoffPolicy;
  readonly callTimeoutMs: number;
  /** Sign calls to the app with this key (unsigned without). */
  readonly signingKey?: string;
  resync(reason: string): Promise<unknown>;
  addWait(wait: EventWait): () => void;
  stepChanged(runId: string, step: StepView): void;
  appUnreachable(runId: string, error: string): void;
  /** A call to the app began or ended (`stepId` "step" is a discovery call). */
  callChanged(runId: string, stepId: string, phase: "start" | "end"): void;
  /** The run waits for a concurrency slot another run holds. */
  runQueued(run: RunDriver): void;
  runStarted(run: RunDriver): void;
  /** Resolves once what the end triggers (function.failed / cancelled) is stored. */
  runFinished(run: RunDriver): Promise<void> | void;
  /** Store the run's state; rejects when the store failed (the next save carries the state again). */
  saveRun(record: RunRecord): Promise<void>;
}

/** Give up on a function the app keeps saying it does not have, even after resyncing. */
const MAX_UNKNOWN_FUNCTION_RETRIES = 3;

/**
 * One run: discovery and step calls per the SDK protocol, memoized step state, retries, sleeps,
 * waits, and the run's concurrency slot (held only while it has calls to make or in flight).
 * Its state is one record (`RunRecord`), saved through the host before every call to the app and
 * after every answer, so a restarted executor resumes it (`resume`).
 */
export class RunDriver {
  private r: RunRecord;
  private readonly timeline: Timeline;
  private release: (() => void) | undefined;
  private acquisition: Acquisition | undefined;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly unwaits = new Map<string, () => void>();
  /** Work that holds the slot without a call in flight (a resync). */
  private holds = 0;
  private done = false;
  private saving: Promise<void> = Promise.resolve();
  private pendingSave: Promise<void> | undefined;

  constructor(
    private readonly host: RunHost,
    record: RunRecord,
  ) {
    this.r = record;
    this.done = record.status.kind === "finished";
    this.timeline = new Timeline((step) => host.stepChanged(record.runId, step), record.timeline);
  }

  get runId(): string {
    return this.r.runId;
  }

  get functionId(): string {
    return this.r.functionId;
  }

  get event(): StoredEvent {
    return this.r.event;
  }

  get finished(): boolean {
    return this.done;
  }

  /** The run's state as the store keeps it. */
  record(): RunRecord {
    return { ...this.r, timeline: this.timeline.list() };
  }

  view(): RunView {
    const phase = this.r.status;
    const view: RunView = {
      runId: this.r.runId,
      functionId: this.r.functionId,
      status: runStatusOf(phase),
      eventId: this.r.event.internalId,
      event: this.r.event,
      queuedAt: this.r.queuedAt,
      timeline: this.timeline.list(),
    };
    if (phase.kind !== "queued" && phase.startedAt) view.startedAt = phase.startedAt;
    if (phase.kind === "finished") {
      view.endedAt = phase.endedAt;
      if (phase.status === "Completed") view.output = phase.output;
      if (phase.error) view.error = phase.error;
    }
    return view;
  }

  /** A new run: saved, then it asks for a slot. Resolves once the store has it. */
  start(): Promise<void> {
    const saved = this.persist();
    this.pump();
    return saved;
  }

  /**
   * A run loaded from the store after a restart (the functions are synced by now): calls that were
   * in flight count as failed attempts and go again, timers and waits are armed with their due times.
   */
  resume(maxAttempts: number): void {
    if (this.done) return;
    this.r = resumeRecord(this.record(), maxAttempts, new Date());
    for (const step of this.r.timeline) this.timeline.replace(step);
    for (const wait of this.r.waits) this.armWait(wait);
    for (const timer of this.r.timers) this.arm(timer);
    log.info({ runId: this.runId, functionId: this.functionId, steps: this.r.stack.length }, "run resumed");
    this.pump();
    void this.persist();
  }

  /** Stop at the next step boundary (a queued or sleeping run stops at once). */
  cancel(): void {
    this.r.cancelRequested = true;
    this.pump();
    void this.persist();
  }

  /** Executor shutdown: drop everything without reporting a result (the store keeps the run to resume). */
  halt(): void {
    this.done = true;
    this.cleanup();
  }

  /**
   * Saves the current state after any save already under way; concurrent callers share one write,
   * whose snapshot is taken when it starts, so it includes every change made before each call.
   */
  persist(): Promise<void> {
    if (this.pendingSave) return this.pendingSave;
    const save = this.saving.then(() => {
      this.pendingSave = undefined;
      return this.host.saveRun(this.record());
    });
    this.pendingSave = save;
    // A failed write must not block the next ones: each carries the whole state.
    this.saving = save.catch(() => undefined);
    return save;
  }

  private get discovering(): boolean {
    return this.r.inFlight.some((c) => c.kind === "discover");
  }

  private pump(): void {
    if (this.done) return;
    if (this.r.cancelRequested) {
      if (this.r.inFlight.length === 0 && this.holds === 0) {
        this.finish("Cancelled", { error: { name: "Error", message: "function cancelled" } });
      }
      return;
    }
    const discoverReady = this.r.discoverWanted !== null && !this.discovering;
    if (!discoverReady && this.r.ready.length === 0) {
      // Idle (sleeping, waiting or in backoff): let other runs with the same key go.
      if (this.r.inFlight.length === 0 && this.holds === 0 && this.release) {
        this.release();
        this.release = undefined;
      }
      return;
    }
    if (!this.release) {
      this.acquireSlot();
      return;
    }
    if (discoverReady && this.r.discoverWanted) {
      const { attempt } = this.r.discoverWanted;
      this.r.discoverWanted = null;
      void this.dispatch({ kind: "discover", attempt });
    }
    for (const call of this.r.ready.splice(0)) void this.dispatch(call);
  }

  private acquireSlot(): void {
    if (this.acquisition) return;
    const acquisition = this.host.gate.acquire(this.r.slots);
    this.acquisition = acquisition;
    if (acquisition.queued) {
      log.info({ runId: this.runId, functionId: this.functionId }, "run waiting for a concurrency slot");
      this.host.runQueued(this);
    }
    void acquisition.granted.then((release) => {
      this.acquisition = undefined;
      if (this.done) return release();
      this.release = release;
      if (this.r.status.kind === "queued") {
        this.r.status = { kind: "running", startedAt: new Date().toISOString() };
        log.info({ runId: this.runId, functionId: this.functionId, eventName: this.event.name }, "run started");
        this.host.runStarted(this);
      }
      this.pump();
    });
  }

  private async dispatch(call: Call): Promise<void> {
    const fn = this.host.functionDef(this.functionId);
    if (!fn) {
      this.finish("Failed", { error: { name: "Error", message: `function "${this.functionId}" is no longer registered` } });
      return;
    }
    if (call.attempt >= fn.maxAttempts) {
      // Only after a restart: the call in flight then was the last attempt (resumeRecord counts it).
      this.finish("Failed", { error: { name: "Error", message: ENGINE_RESTARTED } });
      return;
    }
    const startedAt = new Date().toISOString();
    if (call.kind === "step") this.timeline.attempt(call.hash, startedAt);
    this.r.inFlight.push(call);
    const stepId = call.kind === "step" ? call.hash : "step";
    // The attempt is on disk before the app sees it: a crash during the call counts it.
    await this.persist().catch(() => undefined);
    if (this.done) return;
    this.host.callChanged(this.runId, stepId, "start");
    let outcome: CallOutcome;
    try {
      outcome = await callApp({
        url: fn.url,
        stepId,
        event: this.event,
        steps: { ...this.r.memo },
        stack: [...this.r.stack],
        runId: this.runId,
        attempt: call.attempt,
        maxAttempts: fn.maxAttempts,
        disableImmediateExecution: this.r.disableImmediate,
        timeoutMs: this.host.callTimeoutMs,
        signingKey: this.host.signingKey,
      });
    } catch (err) {
      outcome = { kind: "error", retriable: true, status: 0, error: toSerializedError(err) };
    }
    this.r.inFlight = this.r.inFlight.filter((c) => c !== call);
    this.host.callChanged(this.runId, stepId, "end");
    if (this.done) return;
    await this.handle(call, outcome, fn, startedAt);
    this.pump();
    void this.persist();
  }

  private async handle(call: Call, outcome: CallOutcome, fn: FunctionDef, startedAt: string): Promise<void> {
    if (outcome.kind !== "unreachable") this.r.unreachableStreak = 0;
    switch (outcome.kind) {
      case "unreachable": {
        // The app is restarting: try the same call again later without spending an attempt.
        const delay = this.host.backoff.unreachable(this.r.unreachableStreak++);
        log.warn({ runId: this.runId, delayMs: delay, error: outcome.error }, "app unreachable, call retry scheduled");
        this.host.appUnreachable(this.runId, outcome.error);
        this.later(delay, { kind: "requeue", call });
        return;
      }
      case "unknown-function": {
        if (this.r.unknownFunctionRetries++ >= MAX_UNKNOWN_FUNCTION_RETRIES) {
          this.finish("Failed", { error: { name: "Error", message: outcome.error } });
          return;
        }
        this.holds++;
        await this.host.resync(`app does not know function ${this.functionId}`).catch(() => undefined);
        this.holds--;
        this.requeue(call);
        return;
      }
      case "complete":
        this.finish("Completed", { output: outcome.data });
        return;
      case "error":
        this.callFailed(call, outcome, fn);
        return;
      case "ops":
        this.handleOps(call, outcome.ops, fn, startedAt);
        return;
    }
  }

  /** An error outside any step (500/400), or a step call that failed as a whole. */
  private callFailed(call: Call, outcome: Extract<CallOutcome, { kind: "error" }>, fn: FunctionDef): void {
    const final = !outcome.retriable || call.attempt + 1 >= fn.maxAttempts;
    if (call.kind === "step") {
      if (final) this.timeline.finish(call.hash, "Failed", { error: outcome.error });
      else this.timeline.retrying(call.hash, outcome.error);
    }
    if (final) {
      this.finish("Failed", { error: outcome.error });
      return;
    }
    const delay = outcome.retryAfterMs ?? this.host.backoff.retry(call.attempt);
    log.warn(
      {
        runId: this.runId,
        stepId: call.kind === "step" ? call.hash : "step",
        attempt: call.attempt + 1,
        delayMs: delay,
        error: outcome.error.message,
      },
      "retry scheduled",
    );
    this.later(delay, { kind: "requeue", call: { ...call, attempt: call.attempt + 1 } });
  }

  private handleOps(call: Call, ops: Op[], fn: FunctionDef, startedAt: string): void {
    // Parallel steps: from now on the SDK must not run one of them inside a discovery call.
    if (ops.length > 1) this.r.disableImmediate = true;
    for (const op of ops) {
      if (this.done) return;
      const name = op.displayName ?? op.name;
      const ranInDiscovery = call.kind === "discover";
      switch (op.op) {
        case "StepRun": {
          this.sawExecution(op.id, name, ranInDiscovery, startedAt);
          this.memoize(op.id, { data: op.data ?? null });
          this.timeline.finish(op.id, "Completed", { output: op.data ?? null });
          log.info({ runId: this.runId, stepId: op.id, step: name, attempt: call.attempt }, "step ran");
          break;
        }
        case "StepError": {
          this.sawExecution(op.id, name, ranInDiscovery, startedAt);
          const error = toSerializedError(op.error);
          const attempt = call.attempt + 1;
          if (attempt >= fn.maxAttempts) {
            // The SDK marks the last attempt StepFailed itself; this only guards a confused app.
            this.stepFailed(op.id, error);
            break;
          }
          this.markBusy(op.id);
          this.timeline.retrying(op.id, error);
          const delay = this.host.backoff.retry(call.attempt);
          log.warn({ runId: this.runId, stepId: op.id, step: name, attempt, delayMs: delay, error: error.message }, "retry scheduled");
          this.later(delay, { kind: "requeue", call: { kind: "step", hash: op.id, attempt } });
          break;
        }
        case "StepFailed": {
          this.sawExecution(op.id, name, ranInDiscovery, startedAt);
          this.stepFailed(op.id, toSerializedError(op.error));
          break;
        }
        case "StepPlanned": {
          if (this.known(op.id)) break;
          this.markBusy(op.id);
          this.timeline.see(op.id, name, "StepRun", "Planned");
          this.r.ready.push({ kind: "step", hash: op.id, attempt: 0 });
          break;
        }
        case "Sleep":
          this.sleep(op, name);
          break;
        case "WaitForEvent":
          this.waitForEvent(op, name);
          break;
        case "RunComplete":
          this.finish("Completed", { output: op.data ?? null });
          return;
        default:
          this.finish("Failed", {
            error: { name: "Error", message: `step "${name ?? op.id}" uses op ${op.op}, which the local executor does not support` },
          });
          return;
      }
    }
  }

  /** A step execution reported back; one run inside a discovery call counts as an attempt. */
  private sawExecution(hash: string, name: string | undefined, ranInDiscovery: boolean, startedAt: string): void {
    this.timeline.see(hash, name, "StepRun", "Running", startedAt);
    if (ranInDiscovery) this.timeline.attempt(hash, startedAt);
  }

  private known(hash: string): boolean {
    return this.r.busy.includes(hash) || hash in this.r.memo;
  }

  private markBusy(hash: string): void {
    if (!this.r.busy.includes(hash)) this.r.busy.push(hash);
  }

  private memoize(hash: string, state: StepState): void {
    this.r.busy = this.r.busy.filter((h) => h !== hash);
    this.r.memo[hash] = state;
    this.r.stack.push(hash);
    this.requestDiscovery(0);
  }

  /** A step that will not be retried: the SDK gets `{ error }` and decides (catch or 400). */
  private stepFailed(hash: string, error: SerializedError): void {
    this.memoize(hash, { error });
    this.timeline.finish(hash, "Failed", { error });
    log.info({ runId: this.runId, stepId: hash, error: error.message }, "step failed");
  }

  private sleep(op: Op, name: string | undefined): void {
    if (this.known(op.id)) return;
    const delay = sleepDelayMs(op.name ?? "");
    if (delay === undefined) {
      this.finish("Failed", {
        error: { name: "Error", message: `step.sleep "${name ?? op.id}": cannot read duration "${op.name ?? ""}"` },
      });
      return;
    }
    this.markBusy(op.id);
    this.timeline.see(op.id, name, op.op, "Sleeping");
    this.later(delay, { kind: "sleep-done", hash: op.id });
    log.info({ runId: this.runId, stepId: op.id, step: name, delayMs: delay }, "step sleeping");
  }

  private waitForEvent(op: Op, name: string | undefined): void {
    if (this.known(op.id)) return;
    const opts = op.opts ?? {};
    const timeoutMs = typeof opts.timeout === "string" ? parseDuration(opts.timeout) : undefined;
    const wait: WaitRecord = { hash: op.id, event: op.name ?? "" };
    if (typeof opts.if === "string") wait.if = opts.if;
    try {
      this.compileWait(wait);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.finish("Failed", { error: { name: "Error", message: `step.waitForEvent "${name ?? op.id}": ${message}` } });
      return;
    }
    if (!op.name || timeoutMs === undefined) {
      this.finish("Failed", {
        error: { name: "Error", message: `step.waitForEvent "${name ?? op.id}": needs an event name and a timeout` },
      });
      return;
    }
    this.markBusy(op.id);
    this.timeline.see(op.id, name, op.op, "Waiting");
    this.r.waits.push(wait);
    this.armWait(wait);
    this.later(timeoutMs, { kind: "wait-timeout", hash: op.id });
  }

  private compileWait(wait: WaitRecord): Expression | undefined {
    return wait.if === undefined ? undefined : compileExpression(wait.if, ["event", "async"]);
  }

  private armWait(wait: WaitRecord): void {
    const condition = this.compileWait(wait);
    const runEvent = wireEvent(this.event);
    const unwait = this.host.addWait({
      runId: this.runId,
      event: wait.event,
      matches: (incoming) => !condition || condition.evaluate({ event: runEvent, async: wireEvent(incoming) }) === true,
      resolve: (incoming) => {
        this.settleWait(wait.hash, incoming);
        this.pump();
        void this.persist();
      },
    });
    this.unwaits.set(wait.hash, unwait);
  }

  private settleWait(hash: string, result: StoredEvent | null): void {
    if (this.done || !this.r.waits.some((w) => w.hash === hash)) return;
    this.r.waits = this.r.waits.filter((w) => w.hash !== hash);
    this.unwaits.get(hash)?.();
    this.unwaits.delete(hash);
    for (const timer of this.r.timers.filter((t) => t.action.kind === "wait-timeout" && t.action.hash === hash)) this.disarm(timer.id);
    const data = result ? wireEvent(result) : null;
    this.memoize(hash, { data });
    this.timeline.finish(hash, "Completed", { output: data });
  }

  private requestDiscovery(attempt: number): void {
    this.r.discoverWanted = { attempt: Math.min(this.r.discoverWanted?.attempt ?? attempt, attempt) };
  }

  private requeue(call: Call): void {
    if (call.kind === "discover") this.requestDiscovery(call.attempt);
    else this.r.ready.push(call);
  }

  /** A timer (sleeps, backoff, wait timeouts), kept in the record with its due time; the run holds no slot meanwhile. */
  private later(delayMs: number, action: TimerAction): void {
    const timer: Timer = { id: this.r.nextTimerId++, dueAt: Date.now() + delayMs, action };
    this.r.timers.push(timer);
    this.arm(timer);
  }

  private arm(timer: Timer): void {
    const handle = setTimeout(
      () => {
        this.timers.delete(timer.id);
        this.r.timers = this.r.timers.filter((t) => t.id !== timer.id);
        if (this.done) return;
        this.fire(timer.action);
        this.pump();
        void this.persist();
      },
      Math.max(0, timer.dueAt - Date.now()),
    );
    this.timers.set(timer.id, handle);
  }

  private disarm(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.r.timers = this.r.timers.filter((t) => t.id !== id);
  }

  private fire(action: TimerAction): void {
    switch (action.kind) {
      case "requeue":
        this.requeue(action.call);
        return;
      case "sleep-done":
        this.memoize(action.hash, { data: null });
        this.timeline.finish(action.hash, "Completed", { output: null });
        return;
      case "wait-timeout":
        this.settleWait(action.hash, null);
        return;
    }
  }

  private finish(status: "Completed" | "Failed" | "Cancelled", result: { output?: unknown; error?: SerializedError }): void {
    if (this.done) return;
    this.done = true;
    const endedAt = new Date().toISOString();
    const startedAt = this.r.status.kind === "running" ? this.r.status.startedAt : undefined;
    const phase: RunPhase = { kind: "finished", status, endedAt };
    if (startedAt) phase.startedAt = startedAt;
    if (status === "Completed") phase.output = result.output;
    else if (result.error) phase.error = result.error;
    this.r.status = phase;
    this.r.ready = [];
    this.r.discoverWanted = null;
    this.r.timers = [];
    this.r.waits = [];
    this.cleanup();
    const durationMs = Date.parse(endedAt) - Date.parse(startedAt ?? this.r.queuedAt);
    const logFields = { runId: this.runId, functionId: this.functionId, status, durationMs, error: phase.error?.message };
    if (status === "Failed") log.error(logFields, "run finished");
    else log.info(logFields, "run finished");
    // The follow-up event (function.failed / cancelled) is stored before the run's end, so a crash
    // in between finishes the run again and re-sends that event under the same id (deduped).
    void Promise.resolve(this.host.runFinished(this))
      .catch(() => undefined)
      .then(() => this.persist())
      .catch(() => undefined);
  }

  private cleanup(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const unwait of this.unwaits.values()) unwait();
    this.unwaits.clear();
    this.acquisition?.cancel();
    this.acquisition = undefined;
    this.release?.();
    this.release = undefined;
  }
}
