import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryEventLog } from "./memory-log";
import type { LoggedEvent } from "./protocol";
import { encodeEvent } from "./sse";
import type * as sse from "./sse";
import { progressEvent, setup, type Harness, type StreamClient } from "./test-harness";

// Count serialisations: the service must encode each event once per project, not per connection.
vi.mock("./sse", async (importOriginal) => {
  const actual = await importOriginal<typeof sse>();
  return { ...actual, encodeEvent: vi.fn(actual.encodeEvent) };
});

const P = "proj-a";
let t: Harness | undefined;
afterEach(async () => {
  await t?.teardown();
  t = undefined;
});

/** The bytes after the `ready` frame: identical for every connection of a project. */
function bytesAfterReady(client: StreamClient): Buffer {
  const all = client.bytes;
  const at = all.indexOf("event: ready\n");
  const end = all.indexOf("\n\n", at);
  return all.subarray(end + 2);
}

describe("StreamingService fan-out", () => {
  it("serialises each event once per project regardless of connection count, and every connection gets identical bytes", async () => {
    const h = (t = await setup());
    const clients = await Promise.all([1, 2, 3].map(async () => (await h.openReady(P)).client));
    const other = (await t.openReady("proj-b")).client;
    vi.mocked(encodeEvent).mockClear();

    const published: LoggedEvent[] = [];
    for (let i = 1; i <= 5; i++) {
      const logged = await t.service.publish(P, `k${i}`, progressEvent(P, i, "x".repeat(i * 100)));
      if (logged) published.push(logged);
    }
    const lastId = published[4]?.id ?? "";
    await Promise.all(clients.map((c) => c.waitForId(lastId)));

    expect(vi.mocked(encodeEvent)).toHaveBeenCalledTimes(5);
    const expected = Buffer.concat(published.map((e) => encodeEvent(e)));
    for (const client of clients) expect(bytesAfterReady(client).equals(expected)).toBe(true);
    expect(other.sequence()).toEqual(["ready"]);
  });
});

/** Counts live subscriptions per project, to check the service holds one per project, not one per connection. */
class CountingLog extends MemoryEventLog {
  readonly active = new Map<string, number>();
  subscribes = 0;
  override subscribe(projectId: string, listener: (event: LoggedEvent) => void): () => void {
    this.subscribes++;
    this.active.set(projectId, (this.active.get(projectId) ?? 0) + 1);
    const off = super.subscribe(projectId, listener);
    return () => {
      this.active.set(projectId, (this.active.get(projectId) ?? 0) - 1);
      off();
    };
  }
}

describe("StreamingService log subscription", () => {
  it("holds one subscription per project, released with the last connection", async () => {
    const log = new CountingLog();
    const h = (t = await setup({ log }));
    const a = await h.openReady(P);
    const b = await h.openReady(P);
    await h.openReady("proj-b");
    expect(Object.fromEntries(log.active)).toEqual({ [P]: 1, "proj-b": 1 });
    expect(log.subscribes).toBe(2);
    a.client.close();
    b.client.close();
    await h.capture.waitFor((l) => l.msg === "stream disconnected" && l.projectId === P && l.connections === 0);
    expect(Object.fromEntries(log.active)).toEqual({ [P]: 0, "proj-b": 1 });
    await h.openReady(P);
    expect(Object.fromEntries(log.active)).toEqual({ [P]: 1, "proj-b": 1 });
  });
});
