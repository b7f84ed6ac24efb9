import { openDb, type DbHandle, type DbTarget } from "../db/client";
import { TEST_DATABASE_URL } from "./services";

/** The databases an integration suite runs against: an in-memory PGlite and the real PostgreSQL. */
export function testDatabaseTargets(): { name: string; target: DbTarget }[] {
  const targets: { name: string; target: DbTarget }[] = [{ name: "pglite", target: { kind: "pglite", dir: null } }];
  targets.push({ name: "postgres", target: { kind: "postgres", url: TEST_DATABASE_URL } });
  return targets;
}

export async function openTestDb(target: DbTarget): Promise<DbHandle> {
  return openDb(target);
}
