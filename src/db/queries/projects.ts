import { count, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { messages, projects, type Project } from "../schema";
import { newId } from "../../lib/ids";
import { USER_LOCK, withUserLock } from "./user-lock";

export async function createProject(db: Db, ownerId: string, name: string): Promise<Project> {
  const [row] = await db.insert(projects).values({ id: newId(), ownerId, name }).returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

/** Creates the project unless the owner already has `max`; null when the quota is reached. */
export async function createProjectWithinQuota(db: Db, ownerId: string, name: string, max: number): Promise<Project | null> {
  return withUserLock(db, USER_LOCK.projects, ownerId, async (tx) => {
    const [owned] = await tx.select({ n: count() }).from(projects).where(eq(projects.ownerId, ownerId));
    if ((owned?.n ?? 0) >= max) return null;
    const [row] = await tx.insert(projects).values({ id: newId(), ownerId, name }).returning();
    if (!row) throw new Error("insert returned no row");
    return row;
  });
}

export async function findProject(db: Db, projectId: string): Promise<Project | null> {
  const [row] = await db.select().from(projects).where(eq(projects.id, projectId)).limit(1);
  return row ?? null;
}

export interface ProjectListItem extends Project {
  messageCount: number;
}

/** The owner's projects, newest first. */
export async function listProjects(db: Db, ownerId: string): Promise<ProjectListItem[]> {
  const rows = await db
    .select({
      id: projects.id,
      name: projects.name,
      ownerId: projects.ownerId,
      createdAt: projects.createdAt,
      messageCount: sql<number>`(select count(*)::int from ${messages} where ${messages.projectId} = ${projects.id})`,
    })
    .from(projects)
    .where(eq(projects.ownerId, ownerId))
    .orderBy(desc(projects.createdAt))
    .limit(200);
  return rows;
}
