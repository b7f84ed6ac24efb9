import { openDb, type DbHandle, type DbTarget } from "../db/client";

/**
 * The databases an integration suite runs against: always an in-memory PGlite, and PostgreSQL when
 * DATABASE_URL is set. With REQUIRE_SERVICES=1 a missing DATABASE_URL fails the suite instead of
 * quietly testing less.
 */
export function testDatabaseTargets(): { name: string; target: DbTarget }[] {
  const targets: { name: string; target: DbTarget }[] = [{ name: "pglite", target: { kind: "pglite", dir: null } }];
  const url = process.env.DATABASE_URL;
  if (url) targets.push({ name: "postgres", target: { kind: "postgres", url } });
  else if (process.env.REQUIRE_SERVICES === "1") throw new Error("REQUIRE_SERVICES=1 but DATABASE_URL is not set");
  return targets;
}

export async function openTestDb(target: DbTarget): Promise<DbHandle> {
  return openDb(target);
}
