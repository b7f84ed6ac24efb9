import "../src/lib/load-env-files";
import { openDb, targetFromEnv } from "../src/db/client";
import { loadServerEnv } from "../src/lib/env";
import { log } from "../src/lib/process-log";

/** Applies the committed migrations to DATABASE_URL (or the embedded PGlite) and exits. */
const target = targetFromEnv(loadServerEnv());
const handle = await openDb(target);
log.info({ kind: handle.kind }, "migrations applied");
await handle.close();
