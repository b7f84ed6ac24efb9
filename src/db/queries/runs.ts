import { and, asc, desc, eq, gt, lt, or } from "drizzle-orm";
import type { Db } from "../client";
import { runOutputs, runs, type Run, type StoredStep } from "../schema";
import { upsertAssistantMessage } from "./messages";
import { STEP_NAMES, type FinishedRunStatus, type StepName } from "../../streaming/protocol";

function pendingSteps(): StoredStep[] {
  return STEP_NAMES.map((name) => ({ name, state: "pending", attempt: 0, startedAt: null, completedAt: null, durationMs: null }));
}

/** Creates the run row once; a re-executed first step finds it. */
export async function ensureRun(db: Db, input: { runId: string; projectId: string; messageId: string; startedAt: Date }): Promise<Run> {
  await db
    .insert(runs)
    .values({
      id: input.runId,
      projectId: input.projectId,
      messageId: input.messageId,
      status: "running",
      steps: pendingSteps(),
      startedAt: input.startedAt,
    })
    .onConflictDoNothing();
  const run = await findRun(db, input.runId);
  if (!run) throw new Error(`run ${input.runId} missing after insert`);
  return run;
}

export async function findRun(db: Db, runId: string): Promise<Run | null> {
  const [row] = await db.select().from(runs).where(eq(runs.id, runId)).limit(1);
  return row ?? null;
}

/** Read-modify-write of one step; runs of a project never overlap, and a run's steps run one at a time. */
export async function updateStep(db: Db, runId: string, name: StepName, patch: Partial<Omit<StoredStep, "name">>): Promise<void> {
  const run = await findRun(db, runId);
  if (!run) return;
  const steps = run.steps.map((s) => (s.name === name ? { ...s, ...patch } : s));
  await db.update(runs).set({ steps }).where(eq(runs.id, runId));
}

export interface FinishRunInput {
  runId: string;
  status: FinishedRunStatus;
  reason: string | null;
  /** Stored as failed (the step that was running when the run failed). */
  failedStep?: StepName;
  /** The assistant's answer to the run's message. */
  reply: { id: string; projectId: string; content: string; artifactVersion: number | null };
}

/**
 * Finishes a running run in one transaction: its final state, the assistant's reply, and its
 * leftover outputs dropped. `finishedNow` is false when the run had already finished (its `status`
 * then says how; nothing was written); null when there is no such run.
 */
export function finishRun(db: Db, input: FinishRunInput): Promise<{ run: Run; finishedNow: boolean } | null> {
  return db.transaction(async (tx) => {
    const [run] = await tx.select().from(runs).where(eq(runs.id, input.runId)).limit(1).for("update");
    if (!run) return null;
    if (run.status !== "running") return { run, finishedNow: false };
    const steps = input.failedStep
      ? run.steps.map((s) => (s.name === input.failedStep ? { ...s, state: "failed" as const } : s))
      : run.steps;
    const [updated] = await tx
      .update(runs)
      .set({ status: input.status, reason: input.reason, steps, finishedAt: new Date() })
      .where(and(eq(runs.id, input.runId), eq(runs.status, "running")))
      .returning();
    if (!updated) throw new Error(`run ${input.runId} changed while locked`);
    await upsertAssistantMessage(tx, { ...input.reply, runId: input.runId });
    await tx.delete(runOutputs).where(eq(runOutputs.runId, input.runId));
    return { run: updated, finishedNow: true };
  });
}

export async function listRuns(db: Db, projectId: string, limit = 20): Promise<Run[]> {
  return db.select().from(runs).where(eq(runs.projectId, projectId)).orderBy(desc(runs.startedAt)).limit(limit);
}

/**
 * Running runs that started before `before`, oldest first, after `after` (keyset paging over
 * started_at, id; the reconciler's candidates, served by runs_running_idx).
 */
export async function listRunningRunsStartedBefore(
  db: Db,
  before: Date,
  after: { startedAt: Date; id: string } | null,
  limit: number,
): Promise<Run[]> {
  const page = after ? or(gt(runs.startedAt, after.startedAt), and(eq(runs.startedAt, after.startedAt), gt(runs.id, after.id))) : undefined;
  return db
    .select()
    .from(runs)
    .where(and(eq(runs.status, "running"), lt(runs.startedAt, before), page))
    .orderBy(asc(runs.startedAt), asc(runs.id))
    .limit(limit);
}
