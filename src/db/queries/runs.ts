import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { runs, type Run, type StoredStep } from "../schema";
import { STEP_NAMES, type FinishedRunStatus, type StepName } from "../../streaming/protocol";

function pendingSteps(): StoredStep[] {
  return STEP_NAMES.map((name) => ({ name, state: "pending", attempt: 0, startedAt: null, completedAt: null, durationMs: null }));
}

/** Creates the run row once; a re-executed first step finds it. */
export async function ensureRun(db: Db, input: { runId: string; projectId: string; messageId: string; startedAt: Date }): Promise<Run> {
  await db
    .insert(runs)
    .values({ id: input.runId, projectId: input.projectId, messageId: input.messageId, status: "running", steps: pendingSteps(), startedAt: input.startedAt })
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

/** Finishes a running run; false when it had already finished (e.g. cancelled while its last step ran). */
export async function finishRun(db: Db, runId: string, status: FinishedRunStatus, reason: string | null, failedStep?: StepName): Promise<boolean> {
  const run = await findRun(db, runId);
  if (!run || run.status !== "running") return false;
  const steps = failedStep
    ? run.steps.map((s) => (s.name === failedStep ? { ...s, state: "failed" as const } : s))
    : run.steps;
  const updated = await db
    .update(runs)
    .set({ status, reason, steps, finishedAt: new Date() })
    .where(and(eq(runs.id, runId), eq(runs.status, "running")))
    .returning({ id: runs.id });
  return updated.length > 0;
}

export async function listRuns(db: Db, projectId: string, limit = 20): Promise<Run[]> {
  return db.select().from(runs).where(eq(runs.projectId, projectId)).orderBy(desc(runs.startedAt)).limit(limit);
}
