import type { Message, Run } from "../db/schema";
import type { RunSnapshot } from "../client/run-snapshot";
import type { LoggedEvent, StepTextEvent } from "../streaming/protocol";
import { foldStepTexts } from "../streaming/step-text";

/** The run as the browser's run panel needs it (same shape the stream reducer starts from). */
export function toRunSnapshot(run: Run): RunSnapshot {
  return {
    runId: run.id,
    messageId: run.messageId,
    status: run.status,
    startedAt: run.startedAt.getTime(),
    finishedAt: run.finishedAt ? run.finishedAt.getTime() : null,
    reason: run.reason,
    steps: run.steps.map((s) => ({
      name: s.name,
      state: s.state,
      attempt: s.attempt,
      startedAt: s.startedAt,
      completedAt: s.completedAt,
      durationMs: s.durationMs,
    })),
  };
}

/**
 * Adds to each running run the text its steps have written so far, folded from the project's log
 * (text is not stored in the database: it is the log's). The caller reads the log after the cursor
 * it hands out, so the fold holds every delta up to it; deltas after it are replayed by the stream
 * and dropped by the client as already held.
 */
export function withStepTexts(runs: RunSnapshot[], logged: readonly LoggedEvent[]): RunSnapshot[] {
  const running = new Set(runs.filter((r) => r.status === "running").map((r) => r.runId));
  if (running.size === 0) return runs;
  const byRun = new Map<string, StepTextEvent[]>();
  for (const { event } of logged) {
    if (event.type !== "step.text" || !running.has(event.runId)) continue;
    const list = byRun.get(event.runId) ?? [];
    list.push(event);
    byRun.set(event.runId, list);
  }
  return runs.map((run) => {
    const events = byRun.get(run.runId);
    if (events === undefined) return run;
    const texts = foldStepTexts(events);
    return { ...run, steps: run.steps.map((step) => ({ ...step, ...(texts.has(step.name) ? { text: texts.get(step.name) } : {}) })) };
  });
}

export type MessageView = ReturnType<typeof toMessageView>;

export function toMessageView(message: Message) {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    runId: message.runId,
    artifactVersion: message.artifactVersion,
    dispatch: message.dispatch,
    createdAt: message.createdAt,
  };
}
