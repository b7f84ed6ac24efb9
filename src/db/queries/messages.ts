import { and, asc, count, eq, gt, isNotNull, lt, notExists, or, sql } from "drizzle-orm";
import type { Db } from "../client";
import { messages, projects, runs, type DispatchState, type Message } from "../schema";
import { newId } from "../../lib/ids";
import { USER_LOCK, withUserLock } from "./user-lock";

export async function insertUserMessage(db: Db, projectId: string, content: string): Promise<Message> {
  const [row] = await db.insert(messages).values({ id: newId(), projectId, role: "user", content, dispatch: "pending" }).returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

/**
 * Stores the user's message unless they already sent `perMinute` in the last minute (over all their
 * projects, by the database clock); null when the rate is reached.
 */
export async function insertUserMessageWithinRate(
  db: Db,
  input: { ownerId: string; projectId: string; content: string; perMinute: number },
): Promise<Message | null> {
  return withUserLock(db, USER_LOCK.messages, input.ownerId, async (tx) => {
    const [recent] = await tx
      .select({ n: count() })
      .from(messages)
      .innerJoin(projects, eq(projects.id, messages.projectId))
      .where(and(eq(projects.ownerId, input.ownerId), eq(messages.role, "user"), gt(messages.createdAt, sql`now() - interval '1 minute'`)));
    if ((recent?.n ?? 0) >= input.perMinute) return null;
    const [row] = await tx
      .insert(messages)
      .values({ id: newId(), projectId: input.projectId, role: "user", content: input.content, dispatch: "pending" })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return row;
  });
}

export async function setDispatch(db: Db, messageId: string, dispatch: DispatchState, engineEventId?: string | null): Promise<void> {
  await db
    .update(messages)
    .set(engineEventId === undefined ? { dispatch } : { dispatch, engineEventId })
    .where(eq(messages.id, messageId));
}

/** Idempotent per run: a retried step finds the message it already wrote. */
export async function upsertAssistantMessage(
  db: Db,
  input: { id: string; projectId: string; runId: string; content: string; artifactVersion: number | null },
): Promise<Message> {
  const [row] = await db
    .insert(messages)
    .values({ ...input, role: "assistant" })
    .onConflictDoUpdate({ target: messages.id, set: { content: input.content, artifactVersion: input.artifactVersion } })
    .returning();
  if (!row) throw new Error("upsert returned no row");
  return row;
}

export async function findMessage(db: Db, messageId: string): Promise<Message | null> {
  const [row] = await db.select().from(messages).where(eq(messages.id, messageId)).limit(1);
  return row ?? null;
}

export async function listMessages(db: Db, projectId: string): Promise<Message[]> {
  return db.select().from(messages).where(eq(messages.projectId, projectId)).orderBy(asc(messages.createdAt), asc(messages.id));
}

/**
 * User messages the job engine accepted (with its event id) between `from` and `before` that have
 * no run yet: the run may still be queued, or the engine may have lost the event. Keyset paged.
 */
export async function listDispatchedWithoutRun(
  db: Db,
  window: { from: Date; before: Date },
  after: { createdAt: Date; id: string } | null,
  limit: number,
): Promise<Message[]> {
  const page = after
    ? or(gt(messages.createdAt, after.createdAt), and(eq(messages.createdAt, after.createdAt), gt(messages.id, after.id)))
    : undefined;
  return db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.role, "user"),
        eq(messages.dispatch, "dispatched"),
        isNotNull(messages.engineEventId),
        gt(messages.createdAt, window.from),
        lt(messages.createdAt, window.before),
        notExists(
          db
            .select({ one: sql`1` })
            .from(runs)
            .where(eq(runs.messageId, messages.id)),
        ),
        page,
      ),
    )
    .orderBy(asc(messages.createdAt), asc(messages.id))
    .limit(limit);
}
