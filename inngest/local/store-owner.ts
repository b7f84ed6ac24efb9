import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { backoffDelay } from "../../src/lib/backoff";

/**
 * One executor per store. Two executors on one store would both resume the same runs and call
 * the app twice for every step; the embedded engine is one process by design (several app
 * instances scale out on Inngest), so a second one is refused with a reason, never let in.
 */
export class StoreHeldError extends Error {
  constructor(where: string, remedy: string) {
    super(
      `another executor holds the engine store (${where}): the embedded engine runs one executor per store. ${remedy} For several app instances, point them at one Inngest (INNGEST_BASE_URL, or Inngest Cloud) instead.`,
    );
    this.name = "StoreHeldError";
  }
}

/** A hold on a store, given back on close. */
export interface StoreOwnership {
  release(): Promise<void>;
}

// The first key of the two-key advisory lock: Genstream's engine store (an arbitrary constant).
const OWNER_LOCK_CLASS = 0x67_65_6e_73; // "gens"
// A predecessor that was kill -9ed holds its session until PostgreSQL sees the socket close: its
// restart, right behind it, waits that moment out (backoff), then refuses.
const TAKE_OVER_WINDOW_MS = 10_000;

/**
 * Takes a session advisory lock on the schema through a connection of its own, held for the
 * executor's life (a pool would hand the lock's session back and forth). If PostgreSQL drops that
 * connection, the hold is gone: `onLost` is called, and the executor must stop.
 */
export async function holdPostgresStore(
  connect: () => Promise<pg.Client>,
  schema: string,
  onLost: (error: Error) => void,
  takeOverWindowMs = TAKE_OVER_WINDOW_MS,
): Promise<StoreOwnership> {
  const client = await connect();
  // Listening from the start: an 'error' event with no listener (the session dropped while this
  // waits out a predecessor) would take the whole process down instead of failing the start.
  let held = false;
  let released = false;
  client.on("error", (error) => {
    if (held && !released) onLost(new Error(`the engine store's lock connection was lost: ${error.message}`));
  });
  const deadline = Date.now() + takeOverWindowMs;
  try {
    for (let retry = 0; ; retry++) {
      const { rows } = await client.query<{ held: boolean }>("select pg_try_advisory_lock($1, hashtext($2)) as held", [
        OWNER_LOCK_CLASS,
        schema,
      ]);
      if (rows[0]?.held) break;
      if (Date.now() >= deadline)
        throw new StoreHeldError(`schema "${schema}" of this database`, "Stop it, or give this one another GENSTREAM_EXECUTOR_SCHEMA.");
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(retry, { baseMs: 100, capMs: 1_000 })));
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  held = true;
  return {
    release: async () => {
      released = true;
      await client.end(); // Ending the session gives the lock back.
    },
  };
}

/**
 * A PGlite directory serves one process: a lock file with the holder's pid. A file whose process
 * is gone (a crash, kill -9) is taken over.
 */
export function holdStoreDir(dir: string): StoreOwnership {
  const file = path.join(dir, "executor.lock");
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return {
        release: () => {
          rmSync(file, { force: true });
          return Promise.resolve();
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const holder = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder))
        throw new StoreHeldError(`directory ${dir}, process ${holder}`, `Stop it, or delete ${file} if that process is not an executor.`);
      rmSync(file, { force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
