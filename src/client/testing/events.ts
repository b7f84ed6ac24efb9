import { STEP_NAMES, type ProgressEvent, type StepName } from "../../streaming/protocol";

/** Builders for progress events of one run, as the Inngest function publishes them. */
export function runEvents(projectId: string, runId: string, messageId = `msg-${runId}`, t0 = 1_000) {
  let at = t0;
  const ref = () => ({ projectId, runId, messageId, at: (at += 10) });
  return {
    started: (): ProgressEvent => ({ type: "run.started", ...ref(), steps: [...STEP_NAMES] }),
    stepStarted: (step: StepName, attempt = 0): ProgressEvent => ({ type: "step.started", ...ref(), step, attempt }),
    progress: (step: StepName, message: string, extra: { partial?: string; fraction?: number } = {}): ProgressEvent => ({
      type: "step.progress",
      ...ref(),
      step,
      message,
      ...extra,
    }),
    text: (step: StepName, attempt: number, offset: number, text: string): ProgressEvent => ({
      type: "step.text",
      ...ref(),
      step,
      attempt,
      offset,
      text,
    }),
    stepCompleted: (step: StepName, durationMs = 5): ProgressEvent => ({
      type: "step.completed",
      ...ref(),
      step,
      durationMs,
      summary: `${step} done`,
    }),
    completed: (): ProgressEvent => ({
      type: "run.completed",
      ...ref(),
      durationMs: 100,
      assistantMessageId: `assistant-${runId}`,
      artifactVersion: 1,
    }),
    failed: (reason: string, step?: StepName): ProgressEvent => ({ type: "run.failed", ...ref(), reason, ...(step ? { step } : {}) }),
    cancelled: (reason: string): ProgressEvent => ({ type: "run.cancelled", ...ref(), reason }),
    /** Every event of a successful run, in publish order. */
    fullRun(): ProgressEvent[] {
      const events = [this.started()];
      for (const step of STEP_NAMES)
        events.push(this.stepStarted(step), this.progress(step, `${step} halfway`, { fraction: 0.5 }), this.stepCompleted(step));
      events.push(this.completed());
      return events;
    },
  };
}

/** Keys as the publisher derives them: runId + step + sequence. */
export function keyOf(event: ProgressEvent, seq = 0): string {
  switch (event.type) {
    case "step.started":
      return `${event.runId}:${event.step}:started`;
    case "step.progress":
      return `${event.runId}:${event.step}:progress:${seq}`;
    case "step.text":
      return `${event.runId}:${event.step}:text:${event.attempt}:${seq}`;
    case "step.completed":
      return `${event.runId}:${event.step}:completed`;
    default:
      return `${event.runId}:${event.type}`;
  }
}
