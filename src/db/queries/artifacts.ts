import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { artifacts, runOutputs, runs, type Artifact, type RunOutput } from "../schema";
import type { GeneratedFile } from "../../generation/codegen";
import { newId } from "../../lib/ids";

export async function latestArtifact(db: Db, projectId: string): Promise<Artifact | null> {
  const [row] = await db.select().from(artifacts).where(eq(artifacts.projectId, projectId)).orderBy(desc(artifacts.version)).limit(1);
  return row ?? null;
}

export async function findArtifact(db: Db, projectId: string, version: number): Promise<Artifact | null> {
  const [row] = await db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.projectId, projectId), eq(artifacts.version, version)))
    .limit(1);
  return row ?? null;
}

type ArtifactInput = { projectId: string; runId: string; messageId: string; plan: unknown; openapi: string; files: GeneratedFile[] };

/** The next version, unless the run already stored one (then that one). */
async function insertArtifactOnce(db: Db, input: ArtifactInput): Promise<Artifact> {
  const [existing] = await db.select().from(artifacts).where(eq(artifacts.runId, input.runId)).limit(1);
  if (existing) return existing;
  const [latest] = await db
    .select({ version: artifacts.version })
    .from(artifacts)
    .where(eq(artifacts.projectId, input.projectId))
    .orderBy(desc(artifacts.version))
    .limit(1);
  const [row] = await db
    .insert(artifacts)
    .values({ id: newId(), version: (latest?.version ?? 0) + 1, ...input })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

/**
 * Stores the next version. Idempotent per run: a retried save returns the version it already stored.
 * Runs of one project never overlap (concurrency key), so max+1 cannot race within a project.
 */
export function saveArtifact(db: Db, input: ArtifactInput): Promise<Artifact> {
  return insertArtifactOnce(db, input);
}

/** Locks the run's row for the transaction; false when the run is missing or has finished. */
async function lockRunningRun(tx: Db, runId: string): Promise<boolean> {
  const [run] = await tx.select({ status: runs.status }).from(runs).where(eq(runs.id, runId)).limit(1).for("update");
  return run?.status === "running";
}

/**
 * Writes one large output of a running generation; a retried step overwrites its own earlier write.
 * False (nothing written) once the run has finished, e.g. cancelled while the step ran.
 */
export function saveRunOutput(db: Db, runId: string, output: { openapi: string } | { files: GeneratedFile[] }): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await lockRunningRun(tx, runId))) return false;
    await tx
      .insert(runOutputs)
      .values({ runId, ...output })
      .onConflictDoUpdate({ target: runOutputs.runId, set: { ...output, updatedAt: new Date() } });
    return true;
  });
}

export async function findRunOutput(db: Db, runId: string): Promise<RunOutput | null> {
  const [row] = await db.select().from(runOutputs).where(eq(runOutputs.runId, runId)).limit(1);
  return row ?? null;
}

/**
 * Turns the run's outputs into the project's next version, in one transaction: the version
 * becomes visible and the outputs row goes. Idempotent per run, like saveArtifact: a retried save
 * finds the version it already stored. Null when the run finished (cancelled) before it saved.
 */
export function saveRunArtifact(
  db: Db,
  input: { projectId: string; runId: string; messageId: string; plan: unknown },
): Promise<Artifact | null> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(artifacts).where(eq(artifacts.runId, input.runId)).limit(1);
    if (existing) return existing;
    if (!(await lockRunningRun(tx, input.runId))) return null;
    const [output] = await tx.select().from(runOutputs).where(eq(runOutputs.runId, input.runId)).limit(1);
    if (!output?.openapi || !output.files) throw new Error(`run ${input.runId} has no generated outputs to save`);
    const artifact = await insertArtifactOnce(tx, { ...input, openapi: output.openapi, files: output.files });
    await tx.delete(runOutputs).where(eq(runOutputs.runId, input.runId));
    return artifact;
  });
}
