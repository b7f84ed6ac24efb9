import { sql } from "drizzle-orm";
import type { Db } from "../client";

/** Namespaces of per-user advisory locks (first key of the two-key form; any constants, never reused). */
export const USER_LOCK = { projects: 72_616_101, messages: 72_616_102 } as const;

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * Runs `body` in a transaction holding a per-user lock, so a count-then-insert quota check is exact
 * even when one user's requests race, on PostgreSQL and PGlite alike, and across app instances.
 */
export function withUserLock<T>(db: Db, namespace: number, userId: string, body: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${namespace}::int4, hashtext(${userId}))`);
    return body(tx);
  });
}
