import type { RunView, StepView } from "../../types";

/** One bar of a run's waterfall, in milliseconds from the run's queue time. */
export interface StepBar {
  step: StepView;
  /** Idle before the step began: after the run started or the previous step ended (concurrency, sleeps, backoff). */
  waitFrom: number;
  start: number;
  end: number;
  ended: boolean;
}

export interface Waterfall {
  /** From queued to started (a concurrency slot, or the app not answering yet). */
  queueDelay: number | undefined;
  span: number;
  bars: StepBar[];
}

export function waterfall(run: RunView, now: number): Waterfall {
  const t0 = Date.parse(run.queuedAt);
  const runEnd = run.endedAt ? Date.parse(run.endedAt) : now;
  const runStart = run.startedAt ? Date.parse(run.startedAt) - t0 : undefined;
  let previousEnd = runStart ?? 0;
  const bars = [...run.timeline]
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
    .map((step): StepBar => {
      const start = Date.parse(step.startedAt) - t0;
      const end = (step.endedAt ? Date.parse(step.endedAt) : runEnd) - t0;
      const bar = { step, waitFrom: Math.min(previousEnd, start), start, end: Math.max(start, end), ended: step.endedAt !== undefined };
      previousEnd = Math.max(previousEnd, bar.end);
      return bar;
    });
  const span = Math.max(1, runEnd - t0, ...bars.map((b) => b.end));
  return { queueDelay: runStart, span, bars };
}
