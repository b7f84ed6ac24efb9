import { describe, expect, it } from "vitest";
import { MemoryEventLog } from "./memory-log";
import { parseCursor, type LoggedEvent } from "./protocol";
import { progressEvent } from "./test-harness";

const P = "proj-a";

async function appendN(log: MemoryEventLog, n: number, projectId = P): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for (let i = 1; i <= n; i++) {
    const logged = await log.append(projectId, `k${i}`, progressEvent(projectId, i));
    if (!logged) throw new Error(`append ${i} was deduped`);
    out.push(logged);
  }
  return out;
}

function seqOf(id: string): number {
  const parsed = parseCursor(id);
  if (!parsed) throw new Error(`bad id ${id}`);
  return parsed.seq;
}

describe("MemoryEventLog", () => {
  it("assigns monotonic ids from 1 within one epoch, and an empty log's head is seq 0", async () => {
    const log = new MemoryEventLog();
    const head0 = await log.head(P);
    expect(seqOf(head0)).toBe(0);
    const events = await appendN(log, 3);
    expect(events.map((e) => seqOf(e.id))).toEqual([1, 2, 3]);
    const epochs = new Set([head0, ...events.map((e) => e.id)].map((id) => parseCursor(id)?.epoch));
    expect(epochs.size).toBe(1);
    expect(await log.head(P)).toBe(events[2]?.id);
  });

  it("gives every project and every log instance its own epoch", async () => {
    const log = new MemoryEventLog();
    const a = parseCursor(await log.head("a"))?.epoch;
    const b = parseCursor(await log.head("b"))?.epoch;
    const restarted = parseCursor(await new MemoryEventLog().head("a"))?.epoch;
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(new Set([a, b, restarted]).size).toBe(3);
  });

  it("dedupes by key: a repeated key stores nothing, consumes no id and notifies nobody", async () => {
    const log = new MemoryEventLog();
    const seen: string[] = [];
    log.subscribe(P, (e) => seen.push(e.key));
    const first = await log.append(P, "run-1:plan:0", progressEvent(P, 1));
    const again = await log.append(P, "run-1:plan:0", progressEvent(P, 2));
    const next = await log.append(P, "run-1:plan:1", progressEvent(P, 3));
    expect(again).toBeNull();
    expect(first && seqOf(first.id)).toBe(1);
    expect(next && seqOf(next.id)).toBe(2);
    expect(seen).toEqual(["run-1:plan:0", "run-1:plan:1"]);
    const read = await log.readAfter(P, (await log.head(P)).replace(/:\d+$/, ":0"));
    expect(read.kind === "events" && read.events.map((e) => e.key)).toEqual(["run-1:plan:0", "run-1:plan:1"]);
  });

  it("keys are scoped per project", async () => {
    const log = new MemoryEventLog();
    expect(await log.append("a", "same", progressEvent("a", 1))).not.toBeNull();
    expect(await log.append("b", "same", progressEvent("b", 1))).not.toBeNull();
  });

  it("replays exactly the events after a cursor, in order", async () => {
    const log = new MemoryEventLog();
    const events = await appendN(log, 5);
    const read = await log.readAfter(P, events[1]?.id);
    expect(read).toEqual({ kind: "events", events: events.slice(2), head: events[4]?.id });
    expect(await log.readAfter(P, events[4]?.id)).toEqual({ kind: "events", events: [], head: events[4]?.id });
  });

  it("an undefined cursor returns no events and the head", async () => {
    const log = new MemoryEventLog();
    const events = await appendN(log, 2);
    expect(await log.readAfter(P, undefined)).toEqual({ kind: "events", events: [], head: events[1]?.id });
  });

  it("retains by count: older events are dropped and a cursor before them gets reset 'retention'", async () => {
    const log = new MemoryEventLog({ retentionEvents: 3 });
    const events = await appendN(log, 5);
    const head = events[4]?.id;
    // Events 3..5 remain; a client at 2 still has no gap, a client at 1 (or 0) has lost event 2.
    expect(await log.readAfter(P, events[1]?.id)).toEqual({ kind: "events", events: events.slice(2), head });
    expect(await log.readAfter(P, events[0]?.id)).toEqual({ kind: "reset", reason: "retention", head });
    const zero = `${parseCursor(events[0]?.id ?? "")?.epoch}:0`;
    expect(await log.readAfter(P, zero)).toEqual({ kind: "reset", reason: "retention", head });
  });

  it("retains by age with an injected clock", async () => {
    let now = 1_000_000;
    const log = new MemoryEventLog({ retentionMs: 60_000, now: () => now });
    const [e1, e2] = await appendN(log, 2);
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
    const log = new MemoryEventLog();
    const events = await appendN(log, 2);
    const head = events[1]?.id ?? "";
    const epoch = parseCursor(head)?.epoch ?? "";
    const other = await appendN(log, 1, "proj-b");
    const restarted = await appendN(new MemoryEventLog(), 1);
    expect(await log.readAfter(P, "garbage")).toEqual({ kind: "reset", reason: "malformed-cursor", head });
    expect(await log.readAfter(P, `${epoch}:-1`)).toEqual({ kind: "reset", reason: "malformed-cursor", head });
    expect(await log.readAfter(P, restarted[0]?.id)).toEqual({ kind: "reset", reason: "unknown-log", head });
    expect(await log.readAfter(P, other[0]?.id)).toEqual({ kind: "reset", reason: "unknown-log", head });
    expect(await log.readAfter(P, `${epoch}:3`)).toEqual({ kind: "reset", reason: "future-cursor", head });
  });

  it("delivers every append to subscribers synchronously, in order, until unsubscribed", async () => {
    const log = new MemoryEventLog();
    const a: string[] = [];
    const b: string[] = [];
    const offA = log.subscribe(P, (e) => a.push(e.id));
    log.subscribe(P, (e) => b.push(e.id));
    log.subscribe("proj-other", () => {
      throw new Error("must not be called for another project");
    });
    const pending = log.append(P, "k1", progressEvent(P, 1));
    // Synchronous: the listener ran before append's promise settled.
    expect(a).toHaveLength(1);
    const first = await pending;
    offA();
    const second = await log.append(P, "k2", progressEvent(P, 2));
    expect(a).toEqual([first?.id]);
    expect(b).toEqual([first?.id, second?.id]);
  });

  it("a throwing subscriber neither fails the append nor starves the others", async () => {
    const log = new MemoryEventLog();
    const got: string[] = [];
    log.subscribe(P, () => {
      throw new Error("boom");
    });
    log.subscribe(P, (e) => got.push(e.key));
    await expect(log.append(P, "k1", progressEvent(P, 1))).resolves.not.toBeNull();
    expect(got).toEqual(["k1"]);
  });

  it("keeps a bounded key index that still covers evicted-but-recent keys", async () => {
    const log = new MemoryEventLog({ retentionEvents: 2, keyIndexSize: 4 });
    await appendN(log, 3); // k1 left the ring but is still in the key index
    expect(await log.append(P, "k1", progressEvent(P, 1))).toBeNull();
    for (let i = 4; i <= 5; i++) await log.append(P, `k${i}`, progressEvent(P, i));
    // Five keys seen with an index of four: k1 is forgotten, so the index stays bounded.
    expect(await log.append(P, "k1", progressEvent(P, 1))).not.toBeNull();
    expect(await log.append(P, "k5", progressEvent(P, 5))).toBeNull();
  });

  it("stays correct across ring compaction (many appends, small retention)", async () => {
    const log = new MemoryEventLog({ retentionEvents: 10 });
    const events = await appendN(log, 5_000);
    const read = await log.readAfter(P, events[4_989]?.id);
    expect(read.kind === "events" && read.events.map((e) => seqOf(e.id))).toEqual([
      4_991, 4_992, 4_993, 4_994, 4_995, 4_996, 4_997, 4_998, 4_999, 5_000,
    ]);
    expect((await log.readAfter(P, events[4_988]?.id)).kind).toBe("reset");
  });

  it("refuses appends after close", async () => {
    const log = new MemoryEventLog();
    await log.close();
    await expect(log.append(P, "k", progressEvent(P, 1))).rejects.toThrow("closed");
  });
});
