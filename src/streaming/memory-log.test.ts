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

/** What only the in-memory log does; what every backend does is event-log.contract.test.ts, run against this log too. */
describe("MemoryEventLog", () => {
  it("gives every project and every log instance its own epoch", async () => {
    const log = new MemoryEventLog();
    const a = parseCursor(await log.head("a"))?.epoch;
    const b = parseCursor(await log.head("b"))?.epoch;
    const restarted = parseCursor(await new MemoryEventLog().head("a"))?.epoch;
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(new Set([a, b, restarted]).size).toBe(3);
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

  it("stays correct across ring compaction (many appends, small retention)", async () => {
    const log = new MemoryEventLog({ retentionEvents: 10 });
    const events = await appendN(log, 5_000);
    const read = await log.readAfter(P, events[4_989]?.id);
    expect(read.kind === "events" && read.events.map((e) => seqOf(e.id))).toEqual([
      4_991, 4_992, 4_993, 4_994, 4_995, 4_996, 4_997, 4_998, 4_999, 5_000,
    ]);
    expect((await log.readAfter(P, events[4_988]?.id)).kind).toBe("reset");
  });
});
