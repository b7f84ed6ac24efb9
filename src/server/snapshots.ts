import type { Message, Run } from "../db/schema";
import type { RunSnapshot } from "../client/run-snapshot";

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
