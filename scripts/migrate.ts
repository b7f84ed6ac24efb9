import { openDb, targetFromEnv } from "../src/db/client";
import { log } from "../src/lib/logger";

/** Applies the committed migrations to DATABASE_URL (or the embedded PGlite) and exits. */
const target = targetFromEnv();
const handle = await openDb(target);
log.info({ kind: handle.kind }, "migrations applied");
await handle.close();
