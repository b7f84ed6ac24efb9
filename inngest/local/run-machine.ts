import { wireEvent, type CallOutcome, type Op, type StepState } from "./app-client";
import type { BackoffPolicy } from "./backoff";
import { parseDuration, sleepDelayMs } from "./duration";
import { toSerializedError } from "./errors";
import { compileExpression } from "./expression";
import type { Call, RunPhase, RunRecord, Timer, TimerAction, WaitRecord } from "./run-state";
import { Timeline } from "./timeline";
import type { SerializedError, StepView, StoredEvent } from "./types";

/** Give up on a function the app keeps saying it does not have, even after resyncing. */
export const MAX_UNKNOWN_FUNCTION_RETRIES = 3;

/** What happened to a run, as the shell (run.ts) observed it. */
export type RunInput =
  /** A call is about to be sent (it is in flight from now on; a step's attempt counts). */
  | { kind: "dispatch"; call: Call }
  | { kind: "answer"; call: Call; outcome: CallOutcome; maxAttempts: number; startedAt: string }
  | { kind: "timer"; id: number }
  /** A waited-for event arrived. */
  | { kind: "event"; hash: string; event: StoredEvent }
  | { kind: "resynced"; call: Call }
  | { kind: "finish"; status: "Completed" | "Failed" | "Cancelled"; output?: unknown; error?: SerializedError };

/** What the shell must do: timers, waits, a resync, reports and logs. Applied in order. */
export type RunEffect =
  | { kind: "arm"; timer: Timer }
  | { kind: "disarm"; id: number }
  | { kind: "wait"; wait: WaitRecord }
  | { kind: "unwait"; hash: string }
  | { kind: "resync"; call: Call }
  | { kind: "unreachable"; error: string }
  | { kind: "step"; step: StepView }
  | { kind: "log"; level: "info" | "warn" | "error"; fields: Record<string, unknown>; msg: string }
  | { kind: "finished" };

export interface MachineContext {
  now: number;
  backoff: Pick<BackoffPolicy, "retry" | "unreachable">;
}

/**
 * The run's transition function (pure): the next record and the effects, from a record and what
 * happened. No IO, no clock but `ctx.now`, and the record given is not changed.
 */
export function transition(record: RunRecord, input: RunInput, ctx: MachineContext): { record: RunRecord; effects: RunEffect[] } {
  if (record.status.kind === "finished") return { record, effects: [] };
  const machine = new Machine(structuredClone(record), ctx);
  machine.apply(input);
  return machine.result();
}

/** One transition's working copy; private to `transition`. */
class Machine {
  private readonly effects: RunEffect[] = [];
  private readonly timeline: Timeline;
  private readonly iso: string;

  constructor(
    private readonly r: RunRecord,
    private readonly ctx: MachineContext,
  ) {
    this.iso = new Date(ctx.now).toISOString();
    this.timeline = new Timeline((step) => this.effects.push({ kind: "step", step }), r.timeline);
  }

  result(): { record: RunRecord; effects: RunEffect[] } {
    return { record: { ...this.r, timeline: this.timeline.list() }, effects: this.effects };
  }

  private get done(): boolean {
    return this.r.status.kind === "finished";
  }

  private log(level: "info" | "warn" | "error", fields: Record<string, unknown>, msg: string): void {
    this.effects.push({ kind: "log", level, fields: { runId: this.r.runId, ...fields }, msg });
  }

  apply(input: RunInput): void {
    switch (input.kind) {
      case "dispatch":
        if (input.call.kind === "step") this.timeline.attempt(input.call.hash, this.iso);
        this.r.inFlight.push(input.call);
        return;
      case "answer": {
        const index = this.r.inFlight.findIndex((c) => sameCall(c, input.call));
        if (index >= 0) this.r.inFlight.splice(index, 1);
        this.answer(input.call, input.outcome, input.maxAttempts, input.startedAt);
        return;
      }
      case "timer": {
        const timer = this.r.timers.find((t) => t.id === input.id);
        if (!timer) return;
        this.r.timers = this.r.timers.filter((t) => t.id !== input.id);
        this.fire(timer.action);
        return;
      }
      case "event":
        this.settleWait(input.hash, input.event);
        return;
      case "resynced":
        this.requeue(input.call);
        return;
      case "finish":
        this.finish(input.status, input);
        return;
    }
  }

  private answer(call: Call, outcome: CallOutcome, maxAttempts: number, startedAt: string): void {
    if (outcome.kind !== "unreachable") this.r.unreachableStreak = 0;
    switch (outcome.kind) {
      case "unreachable": {
        // The app is restarting: try the same call again later without spending an attempt.
        const delay = this.ctx.backoff.unreachable(this.r.unreachableStreak++);
        this.log("warn", { delayMs: delay, error: outcome.error }, "app unreachable, call retry scheduled");
        this.effects.push({ kind: "unreachable", error: outcome.error });
        this.later(delay, { kind: "requeue", call });
        return;
      }
      case "unknown-function":
        if (this.r.unknownFunctionRetries++ >= MAX_UNKNOWN_FUNCTION_RETRIES) {
          this.finish("Failed", { error: { name: "Error", message: outcome.error } });
          return;
        }
        this.effects.push({ kind: "resync", call });
        return;
      case "complete":
        this.finish("Completed", { output: outcome.data });
        return;
      case "error":
        this.callFailed(call, outcome, maxAttempts);
        return;
      case "ops":
        this.ops(call, outcome.ops, maxAttempts, startedAt);
        return;
    }
  }

  /** An error outside any step (500/400), or a step call that failed as a whole. */
  private callFailed(call: Call, outcome: Extract<CallOutcome, { kind: "error" }>, maxAttempts: number): void {
    const final = !outcome.retriable || call.attempt + 1 >= maxAttempts;
    if (call.kind === "step") {
      if (final) this.timeline.finish(call.hash, "Failed", { error: outcome.error }, this.iso);
      else this.timeline.retrying(call.hash, outcome.error);
    }
    if (final) {
      this.finish("Failed", { error: outcome.error });
      return;
    }
    const delay = outcome.retryAfterMs ?? this.ctx.backoff.retry(call.attempt);
    const stepId = call.kind === "step" ? call.hash : "step";
    this.log("warn", { stepId, attempt: call.attempt + 1, delayMs: delay, error: outcome.error.message }, "retry scheduled");
    this.later(delay, { kind: "requeue", call: { ...call, attempt: call.attempt + 1 } });
  }

  private ops(call: Call, ops: Op[], maxAttempts: number, startedAt: string): void {
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
          this.timeline.finish(op.id, "Completed", { output: op.data ?? null }, this.iso);
          this.log("info", { stepId: op.id, step: name, attempt: call.attempt }, "step ran");
          break;
        }
        case "StepError": {
          this.sawExecution(op.id, name, ranInDiscovery, startedAt);
          const error = toSerializedError(op.error);
          const attempt = call.attempt + 1;
          if (attempt >= maxAttempts) {
            // The SDK marks the last attempt StepFailed itself; this only guards a confused app.
            this.stepFailed(op.id, error);
            break;
          }
          this.markBusy(op.id);
          this.timeline.retrying(op.id, error);
          const delay = this.ctx.backoff.retry(call.attempt);
          this.log("warn", { stepId: op.id, step: name, attempt, delayMs: delay, error: error.message }, "retry scheduled");
          this.later(delay, { kind: "requeue", call: { kind: "step", hash: op.id, attempt } });
          break;
        }
        case "StepFailed":
          this.sawExecution(op.id, name, ranInDiscovery, startedAt);
          this.stepFailed(op.id, toSerializedError(op.error));
          break;
        case "StepPlanned":
          if (this.known(op.id)) break;
          this.markBusy(op.id);
          this.timeline.see(op.id, name, "StepRun", "Planned", this.iso);
          this.r.ready.push({ kind: "step", hash: op.id, attempt: 0 });
          break;
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
    this.timeline.finish(hash, "Failed", { error }, this.iso);
    this.log("info", { stepId: hash, error: error.message }, "step failed");
  }

  private sleep(op: Op, name: string | undefined): void {
    if (this.known(op.id)) return;
    const delay = sleepDelayMs(op.name ?? "", this.ctx.now);
    if (delay === undefined) {
      this.finish("Failed", {
        error: { name: "Error", message: `step.sleep "${name ?? op.id}": cannot read duration "${op.name ?? ""}"` },
      });
      return;
    }
    this.markBusy(op.id);
    this.timeline.see(op.id, name, op.op, "Sleeping", this.iso);
    this.later(delay, { kind: "sleep-done", hash: op.id });
    this.log("info", { stepId: op.id, step: name, delayMs: delay }, "step sleeping");
  }

  private waitForEvent(op: Op, name: string | undefined): void {
    if (this.known(op.id)) return;
    const opts = op.opts ?? {};
    const timeoutMs = typeof opts.timeout === "string" ? parseDuration(opts.timeout) : undefined;
    const wait: WaitRecord = { hash: op.id, event: op.name ?? "" };
    if (typeof opts.if === "string") wait.if = opts.if;
    try {
      if (wait.if !== undefined) compileExpression(wait.if, ["event", "async"]);
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
    this.timeline.see(op.id, name, op.op, "Waiting", this.iso);
    this.r.waits.push(wait);
    this.effects.push({ kind: "wait", wait });
    this.later(timeoutMs, { kind: "wait-timeout", hash: op.id });
  }

  private settleWait(hash: string, result: StoredEvent | null): void {
    if (!this.r.waits.some((w) => w.hash === hash)) return;
    this.r.waits = this.r.waits.filter((w) => w.hash !== hash);
    this.effects.push({ kind: "unwait", hash });
    for (const timer of this.r.timers.filter((t) => t.action.kind === "wait-timeout" && t.action.hash === hash)) {
      this.r.timers = this.r.timers.filter((t) => t.id !== timer.id);
      this.effects.push({ kind: "disarm", id: timer.id });
    }
    const data = result ? wireEvent(result) : null;
    this.memoize(hash, { data });
    this.timeline.finish(hash, "Completed", { output: data }, this.iso);
  }

  private requestDiscovery(attempt: number): void {
    this.r.discoverWanted = { attempt: Math.min(this.r.discoverWanted?.attempt ?? attempt, attempt) };
  }

  private requeue(call: Call): void {
    if (call.kind === "discover") this.requestDiscovery(call.attempt);
    else this.r.ready.push(call);
  }

  /** A timer (sleeps, backoff, wait timeouts), kept in the record with its due time. */
  private later(delayMs: number, action: TimerAction): void {
    const timer: Timer = { id: this.r.nextTimerId++, dueAt: this.ctx.now + delayMs, action };
    this.r.timers.push(timer);
    this.effects.push({ kind: "arm", timer });
  }

  private fire(action: TimerAction): void {
    switch (action.kind) {
      case "requeue":
        this.requeue(action.call);
        return;
      case "sleep-done":
        this.memoize(action.hash, { data: null });
        this.timeline.finish(action.hash, "Completed", { output: null }, this.iso);
        return;
      case "wait-timeout":
        this.settleWait(action.hash, null);
        return;
    }
  }

  private finish(status: "Completed" | "Failed" | "Cancelled", result: { output?: unknown; error?: SerializedError }): void {
    if (this.done) return;
    const startedAt = this.r.status.kind === "running" ? this.r.status.startedAt : undefined;
    const phase: RunPhase = { kind: "finished", status, endedAt: this.iso };
    if (startedAt) phase.startedAt = startedAt;
    if (status === "Completed") phase.output = result.output;
    else if (result.error) phase.error = result.error;
    this.r.status = phase;
    for (const timer of this.r.timers) this.effects.push({ kind: "disarm", id: timer.id });
    for (const wait of this.r.waits) this.effects.push({ kind: "unwait", hash: wait.hash });
    this.r.ready = [];
    this.r.discoverWanted = null;
    this.r.timers = [];
    this.r.waits = [];
    const durationMs = this.ctx.now - Date.parse(startedAt ?? this.r.queuedAt);
    this.log(
      status === "Failed" ? "error" : "info",
      { functionId: this.r.functionId, status, durationMs, error: phase.error?.message },
      "run finished",
    );
    this.effects.push({ kind: "finished" });
  }
}

function sameCall(a: Call, b: Call): boolean {
  return a.kind === b.kind && a.attempt === b.attempt && (a.kind === "discover" || (b.kind === "step" && a.hash === b.hash));
}
