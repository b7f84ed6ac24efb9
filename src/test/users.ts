import { inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { user, type User } from "../db/schema";
import { newId } from "../lib/ids";

/** A user row without credentials, for suites that need an owner but no session. */
export async function insertTestUser(db: Db, label = "user"): Promise<User> {
  const id = newId();
  const [row] = await db
    .insert(user)
    .values({ id, name: label, email: `${label}-${id}@example.test` })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

/**
 * Deletes test users and, by cascade, their projects, messages and runs: a suite that leaves
 * "running" runs in the shared database has every later app's reconciler asking about them.
 */
export async function deleteTestUsers(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.delete(user).where(inArray(user.id, [...ids]));
}
