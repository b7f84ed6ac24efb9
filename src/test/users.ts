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
