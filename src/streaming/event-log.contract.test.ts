import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "./memory-log";
import { projectKeys } from "./redis-client";
import { RedisEventLog } from "./redis-log";
import { parseCursor, type LoggedEvent } from "./protocol";
import { collect, progressEvent } from "./test-harness";
import type { EventLog } from "./types";

import { TEST_REDIS_URL as REDIS_URL } from "../test/services";

/**
 * The behaviour every EventLog backend must share, as one suite run against each backend (below).
 * Delivery is awaited through the listener, never timed, so the same tests hold for the synchronous
 * memory log and the Redis tail.
 */
interface ContractLogOptions {
  retentionEvents?: number;
  retentionMs?: number;
  keyIndexSize?: number;
  now?: () => number;
}

interface ContractBackend {
  name: string;
  create(options?: ContractLogOptions): EventLog;
  /** A project id no other test (or run, on a shared Redis) uses. */
  project(): string;
}

function seqOf(id: string | undefined): number {
  const parsed = parseCursor(id ?? "");
  if (!parsed) throw new Error(`bad id ${id}`);
  return parsed.seq;
}

function epochOf(id: string | undefined): string {
  const parsed = parseCursor(id ?? "");
  if (!parsed) throw new Error(`bad id ${id}`);
  return parsed.epoch;
}

async function appendN(log: EventLog, projectId: string, n: number, from = 1): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for (let i = from; i < from + n; i++) {
    const logged = await log.append(projectId, `k${i}`, progressEvent(projectId, i));
    if (!logged) throw new Error(`append ${i} was deduped`);
    out.push(logged);
  }
  return out;
}

function eventLogContract(backend: ContractBackend): void {
  describe(`EventLog contract: ${backend.name}`, () => {
    const open: EventLog[] = [];
    const create = (options?: ContractLogOptions): EventLog => {
      const log = backend.create(options);
      open.push(log);
      return log;
    };

    afterEach(async () => {
      await Promise.all(open.splice(0).map((log) => log.close()));
    });

    it("assigns monotonic ids from 1 within one epoch, and an empty log's head is seq 0", async () => {
      const log = create();
      const P = backend.project();
      const head0 = await log.head(P);
      expect(seqOf(head0)).toBe(0);
      const events = await appendN(log, P, 3);
      expect(events.map((e) => seqOf(e.id))).toEqual([1, 2, 3]);
      expect(new Set([head0, ...events.map((e) => e.id)].map(epochOf)).size).toBe(1);
      expect(await log.head(P)).toBe(events[2]?.id);
    });

    it("gives every project its own epoch", async () => {
      const log = create();
      const a = epochOf(await log.head(backend.project()));
      const b = epochOf(await log.head(backend.project()));
      expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(a).not.toBe(b);
    });

    it("dedupes by key: a repeated key stores nothing, consumes no id and notifies nobody", async () => {
      const log = create();
      const P = backend.project();
      const seen = collect(log, P);
      const first = await log.append(P, "run-1:plan:0", progressEvent(P, 1));
      const again = await log.append(P, "run-1:plan:0", progressEvent(P, 2));
      const next = await log.append(P, "run-1:plan:1", progressEvent(P, 3));
      expect(again).toBeNull();
      expect(seqOf(first?.id)).toBe(1);
      expect(seqOf(next?.id)).toBe(2);
      await log.append(P, "run-1:plan:2", progressEvent(P, 4));
      expect((await seen.until(3)).map((e) => e.key)).toEqual(["run-1:plan:0", "run-1:plan:1", "run-1:plan:2"]);
      const read = await log.readAfter(P, `${epochOf(first?.id)}:0`);
      expect(read.kind === "events" && read.events.map((e) => e.key)).toEqual(["run-1:plan:0", "run-1:plan:1", "run-1:plan:2"]);
    });

    it("scopes keys per project", async () => {
      const log = create();
      const [a, b] = [backend.project(), backend.project()];
      expect(await log.append(a, "same", progressEvent(a, 1))).not.toBeNull();
      expect(await log.append(b, "same", progressEvent(b, 1))).not.toBeNull();
    });

    it("replays exactly the events after a cursor, in order", async () => {
      const log = create();
      const P = backend.project();
      const events = await appendN(log, P, 5);
      expect(await log.readAfter(P, events[1]?.id)).toEqual({ kind: "events", events: events.slice(2), head: events[4]?.id });
      expect(await log.readAfter(P, events[4]?.id)).toEqual({ kind: "events", events: [], head: events[4]?.id });
    });

    it("answers an undefined cursor with no events and the head", async () => {
      const log = create();
      const P = backend.project();
      const events = await appendN(log, P, 2);
      expect(await log.readAfter(P, undefined)).toEqual({ kind: "events", events: [], head: events[1]?.id });
    });

    it("retains by count: a cursor before the oldest kept event gets reset 'retention'", async () => {
      const log = create({ retentionEvents: 3 });
      const P = backend.project();
      const events = await appendN(log, P, 5);
      const head = events[4]?.id;
      // Events 3..5 remain; a client at 2 still has no gap, a client at 1 (or 0) has lost event 2.
      expect(await log.readAfter(P, events[1]?.id)).toEqual({ kind: "events", events: events.slice(2), head });
      expect(await log.readAfter(P, events[0]?.id)).toEqual({ kind: "reset", reason: "retention", head });
      expect(await log.readAfter(P, `${epochOf(head)}:0`)).toEqual({ kind: "reset", reason: "retention", head });
    });

    it("retains by age with an injected clock", async () => {
      let now = 1_000_000;
      const log = create({ retentionMs: 60_000, now: () => now });
      const P = backend.project();
      const [e1, e2] = await appendN(log, P, 2);
      now += 30_000;
      const e3 = await log.append(P, "k3", progressEvent(P, 3));
      now += 30_001; // e1 and e2 are now older than 60 s, e3 is 30 s old
      const head = e3?.id;
      expect(await log.readAfter(P, e2?.id)).toEqual({ kind: "events", events: [e3], head });
      expect(await log.readAfter(P, e1?.id)).toEqual({ kind: "reset", reason: "retention", head });
      now += 60_000; // everything expired; a client at head has no gap
      expect(await log.readAfter(P, head)).toEqual({ kind: "events", events: [], head });
      expect(await log.readAfter(P, e2?.id)).toEqual({ kind: "reset", reason: "retention", head });
    });

    it("answers bad cursors with reset reasons and the head", async () => {
      const log = create();
      const P = backend.project();
      const events = await appendN(log, P, 2);
      const head = events[1]?.id ?? "";
      const epoch = epochOf(head);
      const [other] = await appendN(log, backend.project(), 1);
      expect(await log.readAfter(P, "garbage")).toEqual({ kind: "reset", reason: "malformed-cursor", head });
      expect(await log.readAfter(P, `${epoch}:-1`)).toEqual({ kind: "reset", reason: "malformed-cursor", head });
      expect(await log.readAfter(P, other?.id)).toEqual({ kind: "reset", reason: "unknown-log", head });
      expect(await log.readAfter(P, "unknownEpoch:1")).toEqual({ kind: "reset", reason: "unknown-log", head });
      expect(await log.readAfter(P, `${epoch}:3`)).toEqual({ kind: "reset", reason: "future-cursor", head });
    });

    it("delivers each later append to every subscriber, in order, until unsubscribed", async () => {
      const log = create();
      const P = backend.project();
      const before = await appendN(log, P, 2);
      const a = collect(log, P);
      const b = collect(log, P);
      log.subscribe(backend.project(), () => {
        throw new Error("must not be called for another project");
      });
      const [first] = await appendN(log, P, 1, 3);
      await a.until(1);
      a.off();
      const [second] = await appendN(log, P, 1, 4);
      await b.until(2);
      expect(a.events.map((e) => e.id)).toEqual([first?.id]);
      expect(b.events.map((e) => e.id)).toEqual([first?.id, second?.id]);
      expect(seqOf(first?.id)).toBe(seqOf(before[1]?.id) + 1);
    });

    it("a throwing subscriber neither fails the append nor starves the others", async () => {
      const log = create();
      const P = backend.project();
      log.subscribe(P, () => {
        throw new Error("boom");
      });
      const good = collect(log, P);
      await expect(log.append(P, "k1", progressEvent(P, 1))).resolves.not.toBeNull();
      expect((await good.until(1)).map((e) => e.key)).toEqual(["k1"]);
    });

    it("keeps a bounded key index that still covers evicted-but-recent keys", async () => {
      const log = create({ retentionEvents: 2, keyIndexSize: 4 });
      const P = backend.project();
      await appendN(log, P, 3); // k1 left the log but is still in the key index
      expect(await log.append(P, "k1", progressEvent(P, 1))).toBeNull();
      await appendN(log, P, 2, 4);
      // Five keys seen with an index of four: k1 is forgotten, so the index stays bounded.
      expect(await log.append(P, "k1", progressEvent(P, 1))).not.toBeNull();
      expect(await log.append(P, "k5", progressEvent(P, 5))).toBeNull();
    });

    it("stays correct over many appends with small retention", async () => {
      const log = create({ retentionEvents: 10 });
      const P = backend.project();
      const events = await appendN(log, P, 1_000);
      const read = await log.readAfter(P, events[989]?.id);
      expect(read.kind === "events" && read.events.map((e) => seqOf(e.id))).toEqual([991, 992, 993, 994, 995, 996, 997, 998, 999, 1_000]);
      expect((await log.readAfter(P, events[988]?.id)).kind).toBe("reset");
    });

    it("refuses appends after close", async () => {
      const log = create();
      await log.close();
      await expect(log.append(backend.project(), "k", progressEvent("p", 1))).rejects.toThrow("closed");
    });
  });
}

eventLogContract({
  name: "memory",
  create: (options) => new MemoryEventLog(options),
  project: () => `proj-${randomUUID()}`,
});

// One process name per file: the logs of this file share one tail, as one app instance would.
const processName = `contract-${process.pid}-${randomUUID().slice(0, 8)}`;

describe("with Redis", () => {
  const projects: string[] = [];
  // Unique ids keep runs apart; deleting them keeps the shared Redis from filling up.
  afterAll(async () => {
    const admin = new Redis(REDIS_URL);
    if (projects.length > 0) await admin.del(...projects.flatMap((p) => projectKeys(p).list));
    await admin.quit();
  });
  eventLogContract({
    name: "redis",
    create: (options) => new RedisEventLog({ url: REDIS_URL, processName, ...options }),
    project: () => {
      const id = `test-${randomUUID()}`;
      projects.push(id);
      return id;
    },
  });
});
