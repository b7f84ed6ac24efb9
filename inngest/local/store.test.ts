import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { dropSchemas } from "../../src/test/schemas";
import { TEST_DATABASE_URL } from "../../src/test/services";
import { newRunRecord, type RunRecord } from "./run-state";
import { openEngineStore, SqlStore, type EngineStore, type StoreTarget } from "./store";
import type { StoredEvent } from "./types";

const schemas: string[] = [];
afterAll(() => dropSchemas(TEST_DATABASE_URL, schemas));

function event(internalId: string, extra: Partial<StoredEvent> = {}): StoredEvent {
  return { internalId, id: internalId, name: "t/ev", data: { n: 1 }, ts: 1_700_000_000_000, ...extra };
}

function running(runId: string, eventId: string): RunRecord {
  const record = newRunRecord(runId, "fn", event(eventId), [{ key: "fn||1", limit: 1 }], new Date("2026-01-01T00:00:00Z"));
  return {
    ...record,
    status: { kind: "running", startedAt: "2026-01-01T00:00:01Z" },
    memo: { h1: { data: { plan: [1, 2] } }, h2: { error: { name: "Error", message: "boom" } } },
    stack: ["h1", "h2"],
    inFlight: [{ kind: "step", hash: "h3", attempt: 1 }],
    timers: [{ id: 0, dueAt: 1_700_000_060_000, action: { kind: "sleep-done", hash: "h4" } }],
    nextTimerId: 1,
    timeline: [{ id: "h3", name: "third", op: "StepRun", status: "Running", attempts: 2, startedAt: "2026-01-01T00:00:02Z" }],
  };
}

const targets: [string, () => StoreTarget][] = [
  [
    "PostgreSQL (a schema of its own)",
    () => {
      const schema = `engine_test_${randomBytes(6).toString("hex")}`;
      schemas.push(schema);
      return { kind: "postgres", url: TEST_DATABASE_URL, schema };
    },
  ],
  [
    "PGlite (its own directory)",
    () => ({ kind: "pglite", dir: mkdtempSync(path.join(tmpdir(), "engine-store-")), schema: "genstream_engine" }),
  ],
];

describe.each(targets)("executor store on %s", (_name, makeTarget) => {
  it("gives back what was saved, in order, after it is closed and opened again", async () => {
    const target = makeTarget();
    let store: EngineStore = await openEngineStore(target);
    try {
      await store.saveEvent(event("e1"));
      await store.saveEvent(event("e2", { id: "sender-id", user: { x: 1 }, data: { nul: "a\u0000b" } }));
      await store.saveEvent(event("e1")); // ingest retried: still one row
      await store.eventProcessed({ eventId: "e1", runIds: ["r1"], skipped: [] });
      await store.saveRun(running("r1", "e1"));
      const done: RunRecord = {
        ...running("r2", "e1"),
        status: { kind: "finished", status: "Completed", endedAt: "2026-01-01T00:01:00Z", output: 7 },
      };
      await store.saveRun(done);
      await store.saveKey({ key: `event:${JSON.stringify("sender-id")}`, owner: "e2", expiresAt: Date.now() + 60_000 });
      await store.saveKey({ key: "idem:old", owner: "e0", expiresAt: Date.now() - 1 });
    } finally {
      await store.close();
    }
    store = await openEngineStore(target);
    try {
      const snapshot = await store.load();
      expect(snapshot.events).toEqual([
        { event: event("e1"), outcome: { eventId: "e1", runIds: ["r1"], skipped: [] } },
        { event: event("e2", { id: "sender-id", user: { x: 1 }, data: { nul: "a\u0000b" } }), outcome: null },
      ]);
      expect(snapshot.runs.map((r) => r.runId)).toEqual(["r1", "r2"]);
      expect(snapshot.runs[0]).toEqual(running("r1", "e1"));
      expect(snapshot.runs[1]?.status).toEqual({ kind: "finished", status: "Completed", endedAt: "2026-01-01T00:01:00Z", output: 7 });
      // An expired key is gone; a live one keeps its owner.
      expect(snapshot.keys.map((k) => [k.key, k.owner])).toEqual([[`event:${JSON.stringify("sender-id")}`, "e2"]]);

      await store.saveRun({ ...running("r1", "e1"), inFlight: [] });
      await store.deleteRuns(["r2"]);
      await store.deleteEvents(["e2"]);
      const after = await store.load();
      expect(after.runs.map((r) => [r.runId, r.inFlight.length])).toEqual([["r1", 0]]);
      expect(after.events.map((e) => e.event.internalId)).toEqual(["e1"]);
    } finally {
      await store.close();
    }
  });

  it("refuses a stored run it cannot read instead of resuming garbage", async () => {
    const target = makeTarget();
    const store = await openEngineStore(target);
    try {
      await store.saveRun({ ...running("r1", "e1"), v: 2 } as unknown as RunRecord);
      await expect(store.load()).rejects.toThrow(/v/);
    } finally {
      await store.close();
    }
  });
});

describe("executor store", () => {
  it("refuses a schema name that is not a plain identifier", async () => {
    const client = { query: () => Promise.resolve({ rows: [] }), close: () => Promise.resolve() };
    await expect(SqlStore.open("postgres", client, 'x"; drop schema public; --')).rejects.toThrow(/invalid executor schema name/);
  });

  it("keeps its tables out of the app's schema", async () => {
    const schema = `engine_test_${randomBytes(6).toString("hex")}`;
    schemas.push(schema);
    const store = await openEngineStore({ kind: "postgres", url: TEST_DATABASE_URL, schema });
    await store.close();
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = $1 order by table_name",
        [schema],
      );
      expect(rows.map((r) => r.table_name)).toEqual(["events", "keys", "runs"]);
    } finally {
      await client.end();
    }
  });
});
