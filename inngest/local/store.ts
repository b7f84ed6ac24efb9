import { mkdirSync } from "node:fs";
import { z } from "zod";
import { runRecordSchema, type RunRecord } from "./run-state";
import { holdPostgresStore, holdStoreDir } from "./store-owner";
import type { EventOutcome, StoredEvent } from "./types";

/** An ingested event and, once processed, what it did (null: not processed yet, redo it on start). */
export interface EventRecord {
  event: StoredEvent;
  outcome: EventOutcome | null;
}

/** A remembered event id or idempotency key: which event claimed it and until when (epoch ms). */
export interface KeyRecord {
  key: string;
  owner: string;
  expiresAt: number;
}

export interface StoreSnapshot {
  /** In the order they were received. */
  events: EventRecord[];
  /** In the order they were created (ULIDs). */
  runs: RunRecord[];
  keys: KeyRecord[];
}

/**
 * Where the embedded executor keeps what it needs to resume after a crash. Every write is a whole
 * record (a run's full state, an event, a key), so a later write always supersedes an earlier one
 * and a lost write is caught up by the next.
 */
export interface EngineStore {
  readonly kind: "memory" | "postgres" | "pglite";
  load(): Promise<StoreSnapshot>;
  saveEvent(event: StoredEvent): Promise<void>;
  eventProcessed(outcome: EventOutcome): Promise<void>;
  saveRun(record: RunRecord): Promise<void>;
  deleteRuns(runIds: string[]): Promise<void>;
  deleteEvents(internalIds: string[]): Promise<void>;
  saveKey(key: KeyRecord): Promise<void>;
  close(): Promise<void>;
}

/** Nothing survives a restart (GENSTREAM_EXECUTOR_STORE=memory): the executor as it was before it had a store. */
export class MemoryStore implements EngineStore {
  readonly kind = "memory";
  load(): Promise<StoreSnapshot> {
    return Promise.resolve({ events: [], runs: [], keys: [] });
  }
  saveEvent(): Promise<void> {
    return Promise.resolve();
  }
  eventProcessed(): Promise<void> {
    return Promise.resolve();
  }
  saveRun(): Promise<void> {
    return Promise.resolve();
  }
  deleteRuns(): Promise<void> {
    return Promise.resolve();
  }
  deleteEvents(): Promise<void> {
    return Promise.resolve();
  }
  saveKey(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** What node-postgres' Pool and PGlite have in common. */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  close(): Promise<void>;
}

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

// The same for every process that creates this schema; only has to differ from the app's migration lock.
const SCHEMA_LOCK = 72_616_002;

const storedEventSchema = z.looseObject({
  internalId: z.string().min(1),
  name: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  id: z.string().min(1),
  ts: z.number(),
});
const outcomeSchema = z.object({
  eventId: z.string(),
  runIds: z.array(z.string()),
  skipped: z.array(z.object({ functionId: z.string().optional(), reason: z.string() })),
});
/** Stored as JSON text, not jsonb: jsonb cannot hold "\u0000", which event data and step outputs may. */
const jsonText = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text) => JSON.parse(text) as unknown)
    .pipe(schema);
const eventRowSchema = z.object({ body: jsonText(storedEventSchema), outcome: jsonText(outcomeSchema).nullable() });
const runRowSchema = z.object({ record: jsonText(runRecordSchema) });
const keyRowSchema = z.object({ key: z.string(), owner: z.string(), expires_at: z.union([z.string(), z.number()]).transform(Number) });

/**
 * The executor's tables in a schema of their own: in the app's PostgreSQL (DATABASE_URL), or in the
 * executor's own PGlite directory (PGlite is single-process, so it cannot share the app's). Plain
 * SQL, not Drizzle: three tables of JSON records (as text) that only this process reads, created idempotently
 * at start, and no migration history to share with the app's.
 */
export class SqlStore implements EngineStore {
  private readonly s: string;

  private constructor(
    readonly kind: "postgres" | "pglite",
    private readonly client: SqlClient,
    schema: string,
  ) {
    this.s = `"${schema}"`;
  }

  static async open(kind: "postgres" | "pglite", client: SqlClient, schema: string): Promise<SqlStore> {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid executor schema name "${schema}"`);
    const store = new SqlStore(kind, client, schema);
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    const s = this.s;
    // Two executors starting at once on one PostgreSQL would race on CREATE ... IF NOT EXISTS.
    await this.client.query(`select pg_advisory_lock(${SCHEMA_LOCK})`);
    try {
      for (const statement of [
        `create schema if not exists ${s}`,
        `create table if not exists ${s}.events (seq bigserial primary key, internal_id text not null unique, body text not null, outcome text)`,
        `create table if not exists ${s}.runs (run_id text primary key, event_id text not null, function_id text not null, finished boolean not null, record text not null, updated_at timestamptz not null default now())`,
        `create table if not exists ${s}.keys (key text primary key, owner text not null, expires_at bigint not null)`,
      ]) {
        await this.client.query(statement);
      }
    } finally {
      await this.client.query(`select pg_advisory_unlock(${SCHEMA_LOCK})`);
    }
  }

  async load(): Promise<StoreSnapshot> {
    const s = this.s;
    await this.client.query(`delete from ${s}.keys where expires_at <= $1`, [Date.now()]);
    const events = await this.client.query(`select body, outcome from ${s}.events order by seq`);
    const runs = await this.client.query(`select record from ${s}.runs order by run_id`);
    const keys = await this.client.query(`select key, owner, expires_at from ${s}.keys`);
    return {
      events: events.rows.map((row) => {
        const parsed = eventRowSchema.parse(row);
        return { event: parsed.body, outcome: parsed.outcome };
      }),
      runs: runs.rows.map((row) => runRowSchema.parse(row).record),
      keys: keys.rows.map((row) => {
        const k = keyRowSchema.parse(row);
        return { key: k.key, owner: k.owner, expiresAt: k.expires_at };
      }),
    };
  }

  async saveEvent(event: StoredEvent): Promise<void> {
    await this.client.query(`insert into ${this.s}.events (internal_id, body) values ($1, $2) on conflict (internal_id) do nothing`, [
      event.internalId,
      JSON.stringify(event),
    ]);
  }

  async eventProcessed(outcome: EventOutcome): Promise<void> {
    await this.client.query(`update ${this.s}.events set outcome = $2 where internal_id = $1`, [outcome.eventId, JSON.stringify(outcome)]);
  }

  async saveRun(record: RunRecord): Promise<void> {
    await this.client.query(
      `insert into ${this.s}.runs (run_id, event_id, function_id, finished, record) values ($1, $2, $3, $4, $5)
       on conflict (run_id) do update set finished = excluded.finished, record = excluded.record, updated_at = now()`,
      [record.runId, record.event.internalId, record.functionId, record.status.kind === "finished", JSON.stringify(record)],
    );
  }

  async deleteRuns(runIds: string[]): Promise<void> {
    if (runIds.length === 0) return;
    await this.client.query(`delete from ${this.s}.runs where run_id = any($1::text[])`, [runIds]);
  }

  async deleteEvents(internalIds: string[]): Promise<void> {
    if (internalIds.length === 0) return;
    await this.client.query(`delete from ${this.s}.events where internal_id = any($1::text[])`, [internalIds]);
  }

  async saveKey(key: KeyRecord): Promise<void> {
    await this.client.query(
      `insert into ${this.s}.keys (key, owner, expires_at) values ($1, $2, $3)
       on conflict (key) do update set owner = excluded.owner, expires_at = excluded.expires_at`,
      [key.key, key.owner, key.expiresAt],
    );
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export type StoreTarget =
  { kind: "memory" } | { kind: "postgres"; url: string; schema: string } | { kind: "pglite"; dir: string; schema: string };

/**
 * Opens the store the CLI options chose (and creates its schema), held by this process alone
 * (store-owner.ts): a second executor on the same store is refused with StoreHeldError. `onLost`
 * is called if the hold ends while the store is open (PostgreSQL dropped the lock's connection).
 */
export async function openEngineStore(target: StoreTarget, onLost: (error: Error) => void = () => undefined): Promise<EngineStore> {
  if (target.kind === "memory") return new MemoryStore();
  if (target.kind === "postgres") {
    const { default: pg } = await import("pg");
    const owner = await holdPostgresStore(
      async () => {
        const client = new pg.Client({ connectionString: target.url });
        await client.connect();
        return client;
      },
      target.schema,
      onLost,
    );
    // One run writes at a time per run; a few connections are plenty for the executor.
    const pool = new pg.Pool({ connectionString: target.url, max: 4 });
    const close = async (): Promise<void> => {
      await pool.end();
      await owner.release();
    };
    return openOrRelease("postgres", { query: (text, params) => pool.query(text, params), close }, target.schema);
  }
  const { PGlite } = await import("@electric-sql/pglite");
  mkdirSync(target.dir, { recursive: true });
  const owner = holdStoreDir(target.dir);
  // The executor's tables are small; Postgres' 128 MB default would sit in PGlite's never-shrinking WASM memory.
  const db = new PGlite(target.dir, { startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"] });
  const close = async (): Promise<void> => {
    await db.close();
    await owner.release();
  };
  return openOrRelease("pglite", { query: (text, params) => db.query(text, params), close }, target.schema);
}

/** A store that fails to open (its schema cannot be created) gives its connections and its hold back. */
async function openOrRelease(kind: "postgres" | "pglite", client: SqlClient, schema: string): Promise<SqlStore> {
  try {
    return await SqlStore.open(kind, client, schema);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
}
