import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../src/test/services";
import { openEngineStore } from "./store";
import { holdPostgresStore, holdStoreDir, StoreHeldError } from "./store-owner";

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  return client;
}

const never = (): void => {
  throw new Error("the hold was not expected to be lost");
};

describe("one executor per PostgreSQL store", () => {
  it("refuses a second hold on the same schema, with the reason and what to do", async () => {
    const schema = `engine_owner_${randomBytes(6).toString("hex")}`;
    const first = await holdPostgresStore(connect, schema, never);
    try {
      const second = holdPostgresStore(connect, schema, never, 0);
      await expect(second).rejects.toBeInstanceOf(StoreHeldError);
      await expect(second).rejects.toThrow(new RegExp(`schema "${schema}".*GENSTREAM_EXECUTOR_SCHEMA.*Inngest`));
      // Another schema in the same database is another store.
      const other = await holdPostgresStore(connect, `${schema}_b`, never, 0);
      await other.release();
    } finally {
      await first.release();
    }
    const next = await holdPostgresStore(connect, schema, never, 0);
    await next.release();
  });

  it("waits out a predecessor whose session is still ending, then holds the store", async () => {
    const schema = `engine_owner_${randomBytes(6).toString("hex")}`;
    const first = await holdPostgresStore(connect, schema, never);
    let tries = 0;
    const second = holdPostgresStore(
      async () => {
        const client = await connect();
        const query = client.query.bind(client) as (text: string, values: unknown[]) => Promise<pg.QueryResult>;
        // The predecessor's session ends after the successor's first refusal, as after a kill -9.
        (client as unknown as { query: typeof query }).query = async (text, values) => {
          const result = await query(text, values);
          if (++tries === 1) {
            expect(result.rows).toEqual([{ held: false }]);
            await first.release();
          }
          return result;
        };
        return client;
      },
      schema,
      never,
    );
    const held = await second;
    expect(tries).toBeGreaterThanOrEqual(2);
    await held.release();
  });

  it("says so when PostgreSQL ends the session that holds the lock", async () => {
    const schema = `engine_owner_${randomBytes(6).toString("hex")}`;
    let pid = 0;
    let lost!: (error: Error) => void;
    const lostError = new Promise<Error>((resolve) => (lost = resolve));
    const hold = await holdPostgresStore(
      async () => {
        const client = await connect();
        pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
        return client;
      },
      schema,
      (error) => lost(error),
    );
    const admin = await connect();
    try {
      await admin.query("select pg_terminate_backend($1)", [pid]);
      expect((await lostError).message).toMatch(/lock connection was lost/);
      // The hold is gone with the session: another executor may now take the store.
      const next = await holdPostgresStore(connect, schema, never, 0);
      await next.release();
    } finally {
      await admin.end();
      await hold.release().catch(() => undefined);
    }
  });

  it("openEngineStore holds the schema while open, keeps working, and gives it back on close", async () => {
    const schema = `engine_owner_${randomBytes(6).toString("hex")}`;
    const first = await openEngineStore({ kind: "postgres", url: TEST_DATABASE_URL, schema });
    const admin = await connect();
    try {
      await expect(holdPostgresStore(connect, schema, never, 0)).rejects.toBeInstanceOf(StoreHeldError);
      await first.saveKey({ key: "k", owner: "run-1", expiresAt: Date.now() + 60_000 });
      expect((await first.load()).keys).toEqual([expect.objectContaining({ key: "k" })]);
    } finally {
      await first.close();
    }
    try {
      const next = await holdPostgresStore(connect, schema, never, 0);
      await next.release();
    } finally {
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    }
  });
});

describe("one executor per PGlite directory", () => {
  it("refuses a second executor on the directory while the first keeps working", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "engine-owner-"));
    const first = await openEngineStore({ kind: "pglite", dir, schema: "genstream_engine" });
    try {
      await expect(openEngineStore({ kind: "pglite", dir, schema: "genstream_engine" })).rejects.toThrow(
        new RegExp(`directory .*process ${process.pid}.*executor\\.lock`),
      );
      await first.saveKey({ key: "k", owner: "run-1", expiresAt: Date.now() + 60_000 });
      expect((await first.load()).keys).toEqual([expect.objectContaining({ key: "k" })]);
    } finally {
      await first.close();
    }
    expect(existsSync(path.join(dir, "executor.lock"))).toBe(false);
    const again = await openEngineStore({ kind: "pglite", dir, schema: "genstream_engine" });
    expect((await again.load()).keys).toEqual([expect.objectContaining({ key: "k" })]);
    await again.close();
  });

  it("takes over a lock file whose process is gone (a crash) or that names no process", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "engine-owner-"));
    const file = path.join(dir, "executor.lock");
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    for (const content of [String(gone), "not a pid"]) {
      writeFileSync(file, content);
      const hold = holdStoreDir(dir);
      expect(readFileSync(file, "utf8")).toBe(String(process.pid));
      void hold.release();
      expect(existsSync(file)).toBe(false);
    }
  });
});
