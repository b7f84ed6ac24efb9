import { afterEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "./memory-log";
import { parseCursor, readyFrameSchema, resetFrameSchema, type Cursor, type LoggedEvent, type ProgressEvent } from "./protocol";
import { progressEvent, setup, type Harness } from "./test-harness";
import type { EventLog, ReadResult } from "./types";

const P = "proj-a";
let t: Harness | undefined;
afterEach(async () => {
  await t?.teardown();
  t = undefined;
});

async function publishN(h: Harness, n: number, from = 1, projectId = P): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for (let i = from; i < from + n; i++) {
    const logged = await h.service.publish(projectId, `k${i}`, progressEvent(projectId, i));
    if (!logged) throw new Error(`publish ${i} deduped`);
    out.push(logged);
  }
  return out;
}

const ids = (events: LoggedEvent[]): string[] => events.map((e) => `step.progress#${e.id}`);

/**
 * Wraps a log so the test holds `readAfter` open: `entered` resolves when the handshake is inside
 * it, `release()` lets it return. `snapshot` says whether the read happens before or after the hold.
 */
class GatedLog implements EventLog {
  readonly kind = "memory" as const;
  readonly entered: Promise<void>;
  release: () => void = () => {};
  private signalEntered: () => void = () => {};
  private readonly gate: Promise<void>;

  constructor(
    private readonly inner: EventLog,
    private readonly snapshot: "before-hold" | "after-hold",
  ) {
    this.entered = new Promise((resolve) => (this.signalEntered = resolve));
    this.gate = new Promise((resolve) => (this.release = resolve));
  }

  async readAfter(projectId: string, cursor: Cursor | undefined): Promise<ReadResult> {
    if (this.snapshot === "before-hold") {
      const result = await this.inner.readAfter(projectId, cursor);
      this.signalEntered();
      await this.gate;
      return result;
    }
    this.signalEntered();
    await this.gate;
    return this.inner.readAfter(projectId, cursor);
  }
  append(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    return this.inner.append(projectId, key, event);
  }
  head(projectId: string): Promise<Cursor> {
    return this.inner.head(projectId);
  }
  subscribe(projectId: string, listener: (event: LoggedEvent) => void): () => void {
    return this.inner.subscribe(projectId, listener);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe("StreamingService handshake", () => {
  it("answers 200 with SSE headers, no Content-Length, and the retry hint first", async () => {
    t = await setup();
    const { client } = await t.openReady(P);
    expect(client.status).toBe(200);
    expect(client.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(client.res.headers["cache-control"]).toBe("no-cache, no-transform");
    expect(client.res.headers["x-accel-buffering"]).toBe("no");
    expect(client.res.headers["connection"]).toBe("keep-alive");
    expect(client.res.headers["content-length"]).toBeUndefined();
    expect(client.bytes.toString().startsWith("retry: 1000\n\n")).toBe(true);
  });

  it("logs connect and disconnect with the project's connection count", async () => {
    t = await setup();
    const a = await t.openReady(P);
    const first = await t.capture.waitFor((l) => l.msg === "stream connected" && l.connectionId === a.connectionId);
    expect(first).toMatchObject({ projectId: P, connections: 1 });
    const b = await t.openReady(P);
    const second = await t.capture.waitFor((l) => l.msg === "stream connected" && l.connectionId === b.connectionId);
    expect(second).toMatchObject({ projectId: P, connections: 2 });
    expect(t.service.stats()).toEqual({ projects: 1, connections: 2, subscriptions: 0, perProject: { [P]: 2 } });

    a.client.close();
    const gone = await t.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === a.connectionId);
    expect(gone).toMatchObject({ projectId: P, connections: 1, reason: "client-closed", eventsSent: 0 });
    expect(typeof gone.durationMs).toBe("number");
    expect(t.service.stats()).toEqual({ projects: 1, connections: 1, subscriptions: 0, perProject: { [P]: 1 } });
  });

  it("replays after the cursor, then sends ready with the last id, then goes live", async () => {
    t = await setup();
    const events = await publishN(t, 3);
    const { client, cursor } = await t.openReady(P, events[0]?.id);
    expect(cursor).toBe(events[2]?.id);
    const [live] = await publishN(t, 1, 4);
    await client.waitForId(live?.id ?? "");
    expect(client.sequence()).toEqual([...ids(events.slice(1)), "ready", ...ids(live ? [live] : [])]);
    const replayed = JSON.parse(client.frames[0]?.data ?? "");
    expect(replayed).toEqual(events[1]);
    // The connection sent three events (two replayed, one live) besides ready.
    expect(client.sequence().filter((id) => id !== "ready")).toHaveLength(3);
  });

  it("without a cursor replays nothing and reports the head in ready", async () => {
    t = await setup();
    const events = await publishN(t, 2);
    const { client, cursor } = await t.openReady(P);
    expect(cursor).toBe(events[1]?.id);
    expect(client.sequence()).toEqual(["ready"]);
  });

  it("an event published during replay (read before it) arrives exactly once, after ready", async () => {
    const gated = new GatedLog(new MemoryEventLog(), "before-hold");
    t = await setup({ log: gated });
    const events = await publishN(t, 2);
    const opening = t.open(P, events[0]?.id);
    await gated.entered;
    // Registered before the replay read: the send precondition already holds.
    expect(t.capture.with("stream connected", { projectId: P })).toHaveLength(1);
    const during = await publishN(t, 1, 3);
    gated.release();
    const client = await opening;
    const after = await publishN(t, 1, 4);
    await client.waitForId(after[0]?.id ?? "");
    expect(client.sequence()).toEqual([...ids(events.slice(1)), "ready", ...ids(during), ...ids(after)]);
  });

  it("an event both in the replay read and queued live is sent once, in the replay", async () => {
    const gated = new GatedLog(new MemoryEventLog(), "after-hold");
    t = await setup({ log: gated });
    const events = await publishN(t, 2);
    const opening = t.open(P, events[0]?.id);
    await gated.entered;
    const during = await publishN(t, 1, 3);
    gated.release();
    const client = await opening;
    const ready = readyFrameSchema.parse(JSON.parse((await client.waitForEvent("ready")).data));
    expect(ready.cursor).toBe(during[0]?.id);
    const after = await publishN(t, 1, 4);
    await client.waitForId(after[0]?.id ?? "");
    expect(client.sequence()).toEqual([...ids(events.slice(1)), ...ids(during), "ready", ...ids(after)]);
  });

  it("Last-Event-ID takes precedence over ?cursor", async () => {
    t = await setup();
    const events = await publishN(t, 3);
    const client = await t.open(P, events[0]?.id, { "Last-Event-ID": events[1]?.id ?? "" });
    await client.waitForEvent("ready");
    expect(client.sequence()).toEqual([...ids(events.slice(2)), "ready"]);
  });

  it("a malformed cursor gets reset 'malformed-cursor' with the head, then ready and live events", async () => {
    t = await setup();
    const events = await publishN(t, 2);
    const client = await t.open(P, "not a cursor");
    const reset = resetFrameSchema.parse(JSON.parse((await client.waitForEvent("reset")).data));
    expect(reset).toEqual({ reason: "malformed-cursor", cursor: events[1]?.id });
    const ready = readyFrameSchema.parse(JSON.parse((await client.waitForEvent("ready")).data));
    expect(ready.cursor).toBe(events[1]?.id);
    const live = await publishN(t, 1, 3);
    await client.waitForId(live[0]?.id ?? "");
    expect(client.sequence()).toEqual(["reset#" + (events[1]?.id ?? ""), "ready", ...ids(live)]);
  });

  it("a cursor from another log (restart) or another project gets reset 'unknown-log'", async () => {
    t = await setup();
    const events = await publishN(t, 2);
    const [otherProject] = await publishN(t, 1, 1, "proj-b");
    const previousProcess = await new MemoryEventLog().append(P, "k", progressEvent(P, 1));
    for (const cursor of [otherProject?.id, previousProcess?.id]) {
      const client = await t.open(P, cursor);
      const reset = resetFrameSchema.parse(JSON.parse((await client.waitForEvent("reset")).data));
      expect(reset).toEqual({ reason: "unknown-log", cursor: events[1]?.id });
      await client.waitForEvent("ready");
    }
  });

  it("a cursor older than retention gets reset 'retention'", async () => {
    t = await setup({ log: new MemoryEventLog({ retentionEvents: 2 }) });
    const events = await publishN(t, 4);
    const client = await t.open(P, events[0]?.id);
    const reset = resetFrameSchema.parse(JSON.parse((await client.waitForEvent("reset")).data));
    expect(reset).toEqual({ reason: "retention", cursor: events[3]?.id });
    expect(parseCursor(reset.cursor)?.seq).toBe(4);
  });

  it("isConnected knows registered connections per project", async () => {
    t = await setup();
    const a = await t.openReady(P);
    await expect(t.service.isConnected(P, a.connectionId)).resolves.toBe(true);
    await expect(t.service.isConnected("proj-b", a.connectionId)).resolves.toBe(false);
    await expect(t.service.isConnected(P, "nope")).resolves.toBe(false);
    a.client.close();
    await t.capture.waitFor((l) => l.msg === "stream disconnected" && l.connectionId === a.connectionId);
    await expect(t.service.isConnected(P, a.connectionId)).resolves.toBe(false);
    expect(t.service.stats()).toEqual({ projects: 0, connections: 0, subscriptions: 0, perProject: {} });
  });
});
