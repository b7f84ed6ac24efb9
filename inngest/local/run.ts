import { log } from "../../src/lib/process-log";
import { callApp, wireEvent, type CallOutcome, type Op, type StepState } from "./app-client";
import type { BackoffPolicy } from "./backoff";
import type { Acquisition, ConcurrencyGate, Slot } from "./concurrency";
import { parseDuration, sleepDelayMs } from "./duration";
import { toSerializedError } from "./errors";
import { compileExpression, type Expression } from "./expression";
import { Timeline } from "./timeline";
import type { FunctionDef, RunStatus, RunView, SerializedError, StepView, StoredEvent } from "./types";

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
  runFinished(run: RunDriver): void;
}

type Call = { kind: "discover"; attempt: number } | { kind: "step"; hash: string; attempt: number };

/** Give up on a function the app keeps saying it does not have, even after resyncing. */
const MAX_UNKNOWN_FUNCTION_RETRIES = 3;

/**
 * One run: discovery and step calls per the SDK protocol, memoized step state, retries, sleeps,
 * waits, and the run's concurrency slot (held only while it has calls to make or in flight).
 */
export class RunDriver {
  private status: RunStatus = "Queued";
  private readonly queuedAt = new Date().toISOString();
  private startedAt: string | undefined;
  private endedAt: string | undefined;
  private output: unknown;
  private error: SerializedError | undefined;

  private readonly memo: Record<string, StepState> = {};
  private readonly stack: string[] = [];
  /** Hashes planned, running, retrying, sleeping or waiting: re-reported ops are ignored. */
  private readonly busy = new Set<string>();
  private readonly timeline: Timeline;
  private readonly ready: Call[] = [];
  private discoverWanted: { attempt: number } | undefined;
  private discovering = false;
  private inFlight = 0;
  private disableImmediate = false;
  private release: (() => void) | undefined;
  private acquisition: Acquisition | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unwaits = new Set<() => void>();
  private unreachableStreak = 0;
  private unknownFunctionRetries = 0;
  private cancelRequested = false;
  private done = false;

  constructor(
    private readonly host: RunHost,
    readonly runId: string,
    readonly functionId: string,
    readonly event: StoredEvent,
    private readonly slots: Slot[],
  ) {
    this.timeline = new Timeline((step) => host.stepChanged(runId, step));
  }

  get finished(): boolean {
    return this.done;
  }

  view(): RunView {
    const view: RunView = {
      runId: this.runId,
      functionId: this.functionId,
      status: this.status,
      eventId: this.event.internalId,
      event: this.event,
      queuedAt: this.queuedAt,
      timeline: this.timeline.list(),
    };
    if (this.startedAt) view.startedAt = this.startedAt;
    if (this.endedAt) view.endedAt = this.endedAt;
    if (this.status === "Completed") view.output = this.output;
    if (this.error) view.error = this.error;
    return view;
  }

  start(): void {
    this.discoverWanted = { attempt: 0 };
    this.pump();
  }

  /** Stop at the next step boundary (a queued or sleeping run stops at once). */
  cancel(): void {
    this.cancelRequested = true;
    this.pump();
  }

  /** Executor shutdown: drop everything without reporting a result. */
  halt(): void {
    this.done = true;
    this.cleanup();
  }

  private pump(): void {
    if (this.done) return;
    if (this.cancelRequested) {
      if (this.inFlight === 0) this.finish("Cancelled", { error: { name: "Error", message: "function cancelled" } });
      return;
    }
    const discoverReady = this.discoverWanted !== undefined && !this.discovering;
    if (!discoverReady && this.ready.length === 0) {
      // Idle (sleeping, waiting or in backoff): let other runs with the same key go.
      if (this.inFlight === 0 && this.release) {
        this.release();
        this.release = undefined;
      }
      return;
    }
    if (!this.release) {
      this.acquireSlot();
      return;
    }
    if (discoverReady && this.discoverWanted) {
      const { attempt } = this.discoverWanted;
      this.discoverWanted = undefined;
      this.discovering = true;
      void this.dispatch({ kind: "discover", attempt });
    }
    for (const call of this.ready.splice(0)) void this.dispatch(call);
  }

  private acquireSlot(): void {
    if (this.acquisition) return;
    const acquisition = this.host.gate.acquire(this.slots);
    this.acquisition = acquisition;
    if (acquisition.queued) {
      log.info({ runId: this.runId, functionId: this.functionId }, "run waiting for a concurrency slot");
      this.host.runQueued(this);
    }
    void acquisition.granted.then((release) => {
      this.acquisition = undefined;
      if (this.done) return release();
      this.release = release;
      if (this.status === "Queued") {
        this.status = "Running";
        this.startedAt = new Date().toISOString();
        log.info({ runId: this.runId, functionId: this.functionId, eventName: this.event.name }, "run started");
        this.host.runStarted(this);
      }
      this.pump();
    });
  }

  private async dispatch(call: Call): Promise<void> {
    const fn = this.host.functionDef(this.functionId);
    if (!fn) {
      if (call.kind === "discover") this.discovering = false;
      this.finish("Failed", { error: { name: "Error", message: `function "${this.functionId}" is no longer registered` } });
      return;
    }
    const startedAt = new Date().toISOString();
    if (call.kind === "step") this.timeline.attempt(call.hash, startedAt);
    this.inFlight++;
    const stepId = call.kind === "step" ? call.hash : "step";
    this.host.callChanged(this.runId, stepId, "start");
    let outcome: CallOutcome;
    try {
      outcome = await callApp({
        url: fn.url,
        stepId,
        event: this.event,
        steps: { ...this.memo },
        stack: [...this.stack],
        runId: this.runId,
        attempt: call.attempt,
        maxAttempts: fn.maxAttempts,
        disableImmediateExecution: this.disableImmediate,
        timeoutMs: this.host.callTimeoutMs,
        signingKey: this.host.signingKey,
      });
    } catch (err) {
      outcome = { kind: "error", retriable: true, status: 0, error: toSerializedError(err) };
    }
    this.inFlight--;
    if (call.kind === "discover") this.discovering = false;
    this.host.callChanged(this.runId, stepId, "end");
    if (this.done) return;
    await this.handle(call, outcome, fn, startedAt);
    this.pump();
  }

  private async handle(call: Call, outcome: CallOutcome, fn: FunctionDef, startedAt: string): Promise<void> {
    if (outcome.kind !== "unreachable") this.unreachableStreak = 0;
    switch (outcome.kind) {
      case "unreachable": {
        // The app is restarting: try the same call again later without spending an attempt.
        const delay = this.host.backoff.unreachable(this.unreachableStreak++);
        log.warn({ runId: this.runId, delayMs: delay, error: outcome.error }, "app unreachable, call retry scheduled");
        this.host.appUnreachable(this.runId, outcome.error);
        this.later(delay, () => this.requeue(call));
        return;
      }
      case "unknown-function": {
        if (this.unknownFunctionRetries++ >= MAX_UNKNOWN_FUNCTION_RETRIES) {
          this.finish("Failed", { error: { name: "Error", message: outcome.error } });
          return;
        }
        this.inFlight++;
        await this.host.resync(`app does not know function ${this.functionId}`).catch(() => undefined);
        this.inFlight--;
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
    this.later(delay, () => this.requeue({ ...call, attempt: call.attempt + 1 }));
  }

  private handleOps(call: Call, ops: Op[], fn: FunctionDef, startedAt: string): void {
    // Parallel steps: from now on the SDK must not run one of them inside a discovery call.
    if (ops.length > 1) this.disableImmediate = true;
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
          this.busy.add(op.id);
          this.timeline.retrying(op.id, error);
          const delay = this.host.backoff.retry(call.attempt);
          log.warn({ runId: this.runId, stepId: op.id, step: name, attempt, delayMs: delay, error: error.message }, "retry scheduled");
          this.later(delay, () => this.requeue({ kind: "step", hash: op.id, attempt }));
          break;
        }
        case "StepFailed": {
          this.sawExecution(op.id, name, ranInDiscovery, startedAt);
          this.stepFailed(op.id, toSerializedError(op.error));
          break;
        }
        case "StepPlanned": {
          if (this.known(op.id)) break;
          this.busy.add(op.id);
          this.timeline.see(op.id, name, "StepRun", "Planned");
          this.ready.push({ kind: "step", hash: op.id, attempt: 0 });
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
    return this.busy.has(hash) || hash in this.memo;
  }

  private memoize(hash: string, state: StepState): void {
    this.busy.delete(hash);
    this.memo[hash] = state;
    this.stack.push(hash);
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
    this.busy.add(op.id);
    this.timeline.see(op.id, name, op.op, "Sleeping");
    this.later(delay, () => {
      this.memoize(op.id, { data: null });
      this.timeline.finish(op.id, "Completed", { output: null });
    });
  }

  private waitForEvent(op: Op, name: string | undefined): void {
    if (this.known(op.id)) return;
    const opts = op.opts ?? {};
    const timeoutMs = typeof opts.timeout === "string" ? parseDuration(opts.timeout) : undefined;
    let condition: Expression | undefined;
    try {
      condition = typeof opts.if === "string" ? compileExpression(opts.if, ["event", "async"]) : undefined;
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
    this.busy.add(op.id);
    this.timeline.see(op.id, name, op.op, "Waiting");
    let settled = false;
    const settle = (result: StoredEvent | null): void => {
      if (settled || this.done) return;
      settled = true;
      unwait();
      this.unwaits.delete(unwait);
      const data = result ? wireEvent(result) : null;
      this.memoize(op.id, { data });
      this.timeline.finish(op.id, "Completed", { output: data });
      this.pump();
    };
    const runEvent = wireEvent(this.event);
    const unwait = this.host.addWait({
      runId: this.runId,
      event: op.name,
      matches: (incoming) => !condition || condition.evaluate({ event: runEvent, async: wireEvent(incoming) }) === true,
      resolve: (incoming) => settle(incoming),
    });
    this.unwaits.add(unwait);
    this.later(timeoutMs, () => settle(null));
  }

  private requestDiscovery(attempt: number): void {
    this.discoverWanted = { attempt: Math.min(this.discoverWanted?.attempt ?? attempt, attempt) };
  }

  private requeue(call: Call): void {
    if (call.kind === "discover") this.requestDiscovery(call.attempt);
    else this.ready.push(call);
  }

  /** A real timer (sleeps, backoff); the run is idle meanwhile and holds no slot. */
  private later(delayMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.done) return;
      fn();
      this.pump();
    }, delayMs);
    this.timers.add(timer);
  }

  private finish(status: "Completed" | "Failed" | "Cancelled", result: { output?: unknown; error?: SerializedError }): void {
    if (this.done) return;
    this.done = true;
    this.status = status;
    this.endedAt = new Date().toISOString();
    this.output = result.output;
    this.error = status === "Completed" ? undefined : result.error;
    this.cleanup();
    const durationMs = Date.parse(this.endedAt) - Date.parse(this.startedAt ?? this.queuedAt);
    const logFields = { runId: this.runId, functionId: this.functionId, status, durationMs, error: this.error?.message };
    if (status === "Failed") log.error(logFields, "run finished");
    else log.info(logFields, "run finished");
    this.host.runFinished(this);
  }

  private cleanup(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const unwait of this.unwaits) unwait();
    this.unwaits.clear();
    this.acquisition?.cancel();
    this.acquisition = undefined;
    this.release?.();
    this.release = undefined;
  }
}
