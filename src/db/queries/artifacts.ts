import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { artifacts, type Artifact } from "../schema";
import { newId } from "../../lib/ids";

export async function latestArtifact(db: Db, projectId: string): Promise<Artifact | null> {
  const [row] = await db
    .select()
    .from(artifacts)
    .where(eq(artifacts.projectId, projectId))
    .orderBy(desc(artifacts.version))
    .limit(1);
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

/**
 * Stores the next version. Idempotent per run: a retried save returns the version it already stored.
 * Runs of one project never overlap (concurrency key), so max+1 cannot race within a project.
 */
export async function saveArtifact(
  db: Db,
  input: { projectId: string; runId: string; messageId: string; plan: unknown; openapi: string; files: { path: string; content: string }[] },
): Promise<Artifact> {
  const [existing] = await db.select().from(artifacts).where(eq(artifacts.runId, input.runId)).limit(1);
  if (existing) return existing;
  const latest = await latestArtifact(db, input.projectId);
  const [row] = await db
    .insert(artifacts)
    .values({ id: newId(), version: (latest?.version ?? 0) + 1, ...input })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}
