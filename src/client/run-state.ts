import { STEP_NAMES, type ProgressEvent, type RunStatus, type StepName, type StepState } from "../streaming/protocol";
import { appendStepText, type StepText } from "../streaming/step-text";
import type { RunSnapshot, StepSnapshot } from "./run-snapshot";

/**
 * The run panel's state, folded from progress events. Pure and idempotent: the same event applied
 * twice, or an old event replayed on top of a newer database snapshot, never moves a run or a step
 * backwards. Unchanged inputs return the same objects, so React can skip work by identity.
 */

export interface StepView {
  readonly name: StepName;
  readonly state: StepState;
  readonly attempt: number;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly durationMs: number | null;
  /** Last progress line. */
  readonly message: string | null;
  /** Last partial output; each progress event carries a whole slice, so it replaces. */
  readonly partial: string | null;
  /** 0..1 within the step. */
  readonly fraction: number | null;
  readonly summary: string | null;
  /** What the step has written so far (the model's plan text), of its latest attempt that wrote any. */
  readonly text: StepText | null;
}

export interface RunView {
  readonly runId: string;
  readonly messageId: string;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly durationMs: number | null;
  readonly reason: string | null;
  readonly assistantMessageId: string | null;
  readonly artifactVersion: number | null;
  /** Always every step of STEP_NAMES, in that order. */
  readonly steps: readonly StepView[];
  /** 0..1: completed steps plus the running step's fraction, over all steps. */
  readonly progress: number;
}

export interface RunState {
  /** Keyed by runId; iteration order is start order. */
  readonly runs: ReadonlyMap<string, RunView>;
}

export const emptyRunState: RunState = { runs: new Map() };

export function listRuns(state: RunState): RunView[] {
  return [...state.runs.values()];
}

export function isTerminal(status: RunStatus): boolean {
  return status !== "running";
}

export function applyEvent(state: RunState, event: ProgressEvent): RunState {
  const existing = state.runs.get(event.runId);
  // An event for an unknown run (its run.started fell before a reset) still shows the run.
  const base = existing ?? newRun(event.runId, event.messageId, event.at);
  const next = seal(reduceRun(base, event));
  if (next === existing) return state;
  return withRun(state, next, existing === undefined);
}

export function fromSnapshot(runs: readonly RunSnapshot[]): RunState {
  let state = emptyRunState;
  for (const snapshot of runs) state = withRun(state, runFromSnapshot(snapshot), !state.runs.has(snapshot.runId));
  return state;
}

function reduceRun(run: RunView, event: ProgressEvent): RunView {
  switch (event.type) {
    case "run.started":
      return patch(run, { messageId: event.messageId, startedAt: Math.min(run.startedAt, event.at) });
    case "step.started":
      if (isTerminal(run.status)) return run;
      return withStep(run, event.step, (s) => startStep(s, event.attempt, event.at));
    case "step.progress":
      if (isTerminal(run.status)) return run;
      return withStep(run, event.step, (s) =>
        s.state === "completed" || s.state === "failed"
          ? s
          : patch(s, {
              state: "running",
              startedAt: s.startedAt ?? event.at,
              message: event.message,
              partial: event.partial ?? s.partial,
              // Progress within one attempt only grows; a retry resets it in startStep.
              fraction: event.fraction === undefined ? s.fraction : Math.max(s.fraction ?? 0, event.fraction),
            }),
      );
    case "step.text":
      // A cancelled or failed run's late text is not shown: the run's end is the last word.
      if (isTerminal(run.status)) return run;
      return withStep(run, event.step, (s) => {
        const text = appendStepText(s.text, event);
        return text === s.text ? s : { ...s, text };
      });
    case "step.completed":
      return withStep(run, event.step, (s) =>
        s.state === "completed" || (s.state === "failed" && isTerminal(run.status))
          ? s
          : patch(s, {
              state: "completed",
              startedAt: s.startedAt ?? Math.max(0, event.at - event.durationMs),
              completedAt: event.at,
              durationMs: event.durationMs,
              fraction: 1,
              summary: event.summary ?? s.summary,
            }),
      );
    case "run.completed":
      if (!canFinish(run, "completed")) return run;
      // Fill rather than overwrite: a snapshot may already know the outcome but not these ids.
      return patch(run, {
        status: "completed",
        finishedAt: run.finishedAt ?? event.at,
        durationMs: run.durationMs ?? event.durationMs,
        assistantMessageId: run.assistantMessageId ?? event.assistantMessageId,
        artifactVersion: run.artifactVersion ?? event.artifactVersion,
      });
    case "run.failed": {
      if (!canFinish(run, "failed")) return run;
      const failed = finish(run, "failed", event.at, event.reason);
      const target = event.step;
      return target === undefined ? stopRunningSteps(failed) : withStep(failed, target, failStep);
    }
    case "run.cancelled":
      if (!canFinish(run, "cancelled")) return run;
      // Steps have no "cancelled" state; a step cut short did not complete, so it shows as failed.
      return stopRunningSteps(finish(run, "cancelled", event.at, event.reason));
  }
}

/** The first outcome wins; the same outcome again may only fill in what is missing. */
function canFinish(run: RunView, status: RunStatus): boolean {
  return run.status === "running" || run.status === status;
}

function finish(run: RunView, status: RunStatus, at: number, reason: string): RunView {
  const finishedAt = run.finishedAt ?? at;
  return patch(run, {
    status,
    finishedAt,
    durationMs: run.durationMs ?? Math.max(0, finishedAt - run.startedAt),
    reason: run.reason ?? reason,
  });
}

function startStep(step: StepView, attempt: number, at: number): StepView {
  if (step.state === "completed") return step;
  if (step.state === "pending") return patch(step, { state: "running", attempt: Math.max(step.attempt, attempt), startedAt: at });
  if (attempt <= step.attempt) return step;
  // A retry: the new attempt starts over.
  return patch(step, {
    state: "running",
    attempt,
    startedAt: at,
    completedAt: null,
    durationMs: null,
    message: null,
    partial: null,
    fraction: null,
  });
}

function failStep(step: StepView): StepView {
  return step.state === "completed" ? step : patch(step, { state: "failed" });
}

function stopRunningSteps(run: RunView): RunView {
  const steps = run.steps.map((s) => (s.state === "running" ? failStep(s) : s));
  return sameItems(steps, run.steps) ? run : { ...run, steps };
}

function withStep(run: RunView, name: StepName, update: (step: StepView) => StepView): RunView {
  const steps = run.steps.map((s) => (s.name === name ? update(s) : s));
  return sameItems(steps, run.steps) ? run : { ...run, steps };
}

/** Recomputes the derived progress, keeping the object when it did not change. */
function seal(run: RunView): RunView {
  return patch(run, { progress: computeProgress(run.status, run.steps) });
}

function computeProgress(status: RunStatus, steps: readonly StepView[]): number {
  if (status === "completed") return 1;
  if (steps.length === 0) return 0;
  let done = 0;
  for (const s of steps) {
    if (s.state === "completed") done += 1;
    else if (s.state === "running") done += s.fraction ?? 0;
  }
  return done / steps.length;
}

function withRun(state: RunState, run: RunView, isNew: boolean): RunState {
  if (!isNew) return { runs: new Map(state.runs).set(run.runId, run) };
  const all = [...state.runs.values()];
  const last = all[all.length - 1];
  if (last === undefined || last.startedAt <= run.startedAt) return { runs: new Map(state.runs).set(run.runId, run) };
  // A run that started before ones already shown (snapshot order, clock skew): keep start order.
  all.push(run);
  all.sort((a, b) => a.startedAt - b.startedAt);
  return { runs: new Map(all.map((r) => [r.runId, r])) };
}

function newRun(runId: string, messageId: string, startedAt: number): RunView {
  return {
    runId,
    messageId,
    status: "running",
    startedAt,
    finishedAt: null,
    durationMs: null,
    reason: null,
    assistantMessageId: null,
    artifactVersion: null,
    steps: STEP_NAMES.map(pendingStep),
    progress: 0,
  };
}

function pendingStep(name: StepName): StepView {
  return {
    name,
    state: "pending",
    attempt: 0,
    startedAt: null,
    completedAt: null,
    durationMs: null,
    message: null,
    partial: null,
    fraction: null,
    summary: null,
    text: null,
  };
}

function runFromSnapshot(snapshot: RunSnapshot): RunView {
  const byName = new Map<StepName, StepSnapshot>();
  // If a step appears twice, its latest attempt is the truth.
  for (const s of snapshot.steps) {
    const seen = byName.get(s.name);
    if (seen === undefined || s.attempt >= seen.attempt) byName.set(s.name, s);
  }
  const run = newRun(snapshot.runId, snapshot.messageId, snapshot.startedAt);
  return seal({
    ...run,
    status: snapshot.status,
    finishedAt: snapshot.finishedAt,
    durationMs: snapshot.finishedAt === null ? null : Math.max(0, snapshot.finishedAt - snapshot.startedAt),
    reason: snapshot.reason,
    steps: STEP_NAMES.map((name) => {
      const s = byName.get(name);
      if (s === undefined) return pendingStep(name);
      return {
        ...pendingStep(name),
        state: s.state,
        attempt: s.attempt,
        startedAt: s.startedAt,
        completedAt: s.completedAt,
        durationMs: s.durationMs,
        fraction: s.state === "completed" ? 1 : null,
        text: s.text ?? null,
      };
    }),
  });
}

/** Returns `obj` itself when every change is already in place, else a changed copy. */
function patch<T extends object>(obj: T, changes: Partial<T>): T {
  for (const key of Object.keys(changes) as (keyof T)[]) {
    if (!Object.is(obj[key], changes[key])) return { ...obj, ...changes };
  }
  return obj;
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
