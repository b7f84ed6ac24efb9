import { log } from "../../src/lib/process-log";
import { callApp, wireEvent, type CallOutcome } from "./app-client";
import type { BackoffPolicy } from "./backoff";
import type { Acquisition, ConcurrencyGate } from "./concurrency";
import { toSerializedError } from "./errors";
import { compileExpression } from "./expression";
import { transition, type RunEffect, type RunInput } from "./run-machine";
import { ENGINE_RESTARTED, resumeRecord, runStatusOf, type Call, type RunRecord, type Timer, type WaitRecord } from "./run-state";
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

/**
 * One run's IO shell around the pure state machine (`run-machine.ts`): it sends the calls the
 * record says are due (holding the run's concurrency slot only while it has calls to make or in
 * flight), feeds every answer, timer and event to `transition`, applies the effects (timers,
 * waits, logs, reports), and saves the record before every call and after every step.
 */
export class RunDriver {
  private r: RunRecord;
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
    return this.r;
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
      timeline: this.r.timeline.map((s) => ({ ...s })),
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
    this.r = resumeRecord(this.r, maxAttempts, new Date());
    for (const wait of this.r.waits) this.armWait(wait);
    for (const timer of this.r.timers) this.arm(timer);
    log.info({ runId: this.runId, functionId: this.functionId, steps: this.r.stack.length }, "run resumed");
    this.pump();
    void this.persist();
  }

  /** Stop at the next step boundary (a queued or sleeping run stops at once). */
  cancel(): void {
    this.r = { ...this.r, cancelRequested: true };
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
      return this.host.saveRun(this.r);
    });
    this.pendingSave = save;
    // A failed write must not block the next ones: each carries the whole state.
    this.saving = save.catch(() => undefined);
    return save;
  }

  /** One step of the machine, then its effects. */
  private step(input: RunInput): void {
    if (this.done) return;
    const { record, effects } = transition(this.r, input, { now: Date.now(), backoff: this.host.backoff });
    this.r = record;
    for (const effect of effects) this.effect(effect);
  }

  private effect(effect: RunEffect): void {
    switch (effect.kind) {
      case "arm":
        this.arm(effect.timer);
        return;
      case "disarm":
        clearTimeout(this.timers.get(effect.id));
        this.timers.delete(effect.id);
        return;
      case "wait":
        this.armWait(effect.wait);
        return;
      case "unwait":
        this.unwaits.get(effect.hash)?.();
        this.unwaits.delete(effect.hash);
        return;
      case "resync":
        void this.resync(effect.call);
        return;
      case "unreachable":
        this.host.appUnreachable(this.runId, effect.error);
        return;
      case "step":
        this.host.stepChanged(this.runId, effect.step);
        return;
      case "log":
        log[effect.level](effect.fields, effect.msg);
        return;
      case "finished":
        this.onFinished();
        return;
    }
  }

  private pump(): void {
    if (this.done) return;
    if (this.r.cancelRequested) {
      if (this.r.inFlight.length === 0 && this.holds === 0) this.finish("Cancelled", { name: "Error", message: "function cancelled" });
      return;
    }
    const discoverReady = this.r.discoverWanted !== null && !this.r.inFlight.some((c) => c.kind === "discover");
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
    const calls: Call[] = [];
    if (discoverReady && this.r.discoverWanted) calls.push({ kind: "discover", attempt: this.r.discoverWanted.attempt });
    calls.push(...this.r.ready);
    this.r = { ...this.r, ready: [], discoverWanted: discoverReady ? null : this.r.discoverWanted };
    for (const call of calls) void this.dispatch(call);
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
        this.r = { ...this.r, status: { kind: "running", startedAt: new Date().toISOString() } };
        log.info({ runId: this.runId, functionId: this.functionId, eventName: this.event.name }, "run started");
        this.host.runStarted(this);
      }
      this.pump();
    });
  }

  private async dispatch(call: Call): Promise<void> {
    const fn = this.host.functionDef(this.functionId);
    if (!fn) {
      this.finish("Failed", { name: "Error", message: `function "${this.functionId}" is no longer registered` });
      return;
    }
    if (call.attempt >= fn.maxAttempts) {
      // Only after a restart: the call in flight then was the last attempt (resumeRecord counts it).
      this.finish("Failed", { name: "Error", message: ENGINE_RESTARTED });
      return;
    }
    const startedAt = new Date().toISOString();
    this.step({ kind: "dispatch", call });
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
    this.host.callChanged(this.runId, stepId, "end");
    this.step({ kind: "answer", call, outcome, maxAttempts: fn.maxAttempts, startedAt });
    this.pump();
    void this.persist();
  }

  private async resync(call: Call): Promise<void> {
    this.holds++;
    await this.host.resync(`app does not know function ${this.functionId}`).catch(() => undefined);
    this.holds--;
    this.step({ kind: "resynced", call });
    this.pump();
    void this.persist();
  }

  private arm(timer: Timer): void {
    const handle = setTimeout(
      () => {
        this.timers.delete(timer.id);
        this.step({ kind: "timer", id: timer.id });
        this.pump();
        void this.persist();
      },
      Math.max(0, timer.dueAt - Date.now()),
    );
    this.timers.set(timer.id, handle);
  }

  private armWait(wait: WaitRecord): void {
    const condition = wait.if === undefined ? undefined : compileExpression(wait.if, ["event", "async"]);
    const runEvent = wireEvent(this.event);
    const unwait = this.host.addWait({
      runId: this.runId,
      event: wait.event,
      matches: (incoming) => !condition || condition.evaluate({ event: runEvent, async: wireEvent(incoming) }) === true,
      resolve: (incoming) => {
        this.step({ kind: "event", hash: wait.hash, event: incoming });
        this.pump();
        void this.persist();
      },
    });
    this.unwaits.set(wait.hash, unwait);
  }

  private finish(status: "Completed" | "Failed" | "Cancelled", error: SerializedError): void {
    this.step({ kind: "finish", status, error });
  }

  /** The machine finished the run: release everything, report, then store its end. */
  private onFinished(): void {
    this.done = true;
    this.cleanup();
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
