import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { reconnectConfig } from "../../streaming/config";
import type { ProgressEvent } from "../../streaming/protocol";
import { GenerationStreamClient } from "../stream-client";
import type { StreamStatus } from "../stream-snapshot";
import { keyOf, runEvents } from "../testing/events";
import { fakeEventSources, type FakeEventSource } from "../testing/fake-event-source";
import { StreamHolder, SubscriptionCallError, type SubscriptionCalls } from "./holder";
import type { HolderMessage, TabMessage } from "./messages";
import { TabLink } from "./tab-link";

const HALF = () => 0.5;
const CONNECTION = "00000000-0000-4000-8000-000000000001";
const CONNECTION_2 = "00000000-0000-4000-8000-000000000002";

interface Call {
  op: "subscribe" | "unsubscribe";
  connectionId: string;
  projectId: string;
  cursor?: string | null;
  subscriptionId?: string;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The holder between fake tabs and a fake server: the test plays the server on the multiplexed
 * EventSource and answers the subscription calls; messages between tabs and holder are queued and
 * delivered by `flush()`, as ports deliver them, after the sender's turn.
 */
function setup() {
  const sources = fakeEventSources();
  const calls: Call[] = [];
  const call = (op: Call["op"], input: Omit<Call, "op" | "settled" | "resolve" | "reject">) =>
    new Promise<void>((resolve, reject) => {
      const c: Call = {
        op,
        ...input,
        settled: false,
        resolve: () => {
          c.settled = true;
          resolve();
        },
        reject: (error) => {
          c.settled = true;
          reject(error);
        },
      };
      calls.push(c);
    });
  const api: SubscriptionCalls = {
    subscribe: (input) => call("subscribe", input),
    unsubscribe: (input) => call("unsubscribe", input),
  };
  const holder = new StreamHolder({ calls: api, createEventSource: sources.create, random: HALF });
  const queue: (() => void)[] = [];
  /** Delivers queued messages and lets settled promises continue, until nothing is left to do. */
  const flush = async () => {
    for (let round = 0; round < 1000; round++) {
      for (let i = 0; i < 10; i++) await Promise.resolve();
      const next = queue.shift();
      if (next === undefined) return;
      next();
    }
    throw new Error("flush did not settle");
  };

  const tabs: Tab[] = [];
  function tab(name: string) {
    const sink = (message: HolderMessage) => queue.push(() => link.receive(message));
    const link: TabLink = new TabLink((message: TabMessage) => queue.push(() => holder.handle(sink, message)), name);
    link.hello();
    const t = { name, link, clients: [] as Client[] };
    tabs.push(t);
    return {
      ...t,
      /** A stream client of `projectId` in this tab, starting at `cursor` (the page's render). */
      client(projectId: string, cursor: string | null): Client {
        const applied: string[] = [];
        const statuses: StreamStatus[] = [];
        const resets: string[] = [];
        const client = new GenerationStreamClient({
          projectId,
          initialCursor: cursor,
          openSource: link.open,
          random: HALF,
          observer: (_p, frame) => {
            if (frame.applied) applied.push(frame.id);
          },
          onReset: (frame) => void resets.push(`${frame.reason} ${frame.cursor}`),
        });
        client.subscribe(() => {
          const status = client.getSnapshot().status;
          if (statuses.at(-1) !== status) statuses.push(status);
        });
        const c = { client, applied, statuses, resets };
        t.clients.push(c);
        return c;
      },
    };
  }

  const latestSubscribe = (projectId: string) => calls.filter((c) => c.op === "subscribe" && c.projectId === projectId).at(-1);
  const server = {
    get source(): FakeEventSource {
      return sources.latest();
    },
    connected(connectionId = CONNECTION) {
      sources.latest().frame("connected", { connectionId });
    },
    event(id: string, event: ProgressEvent) {
      sources.latest().progress(id, keyOf(event), event);
    },
    /** `ready` of the project's latest subscribe on the stream, then the subscribe's answer (the server's order). */
    ready(projectId: string, cursor: string) {
      sources.latest().frame("ready", { projectId, cursor, subscriptionId: latestSubscribe(projectId)?.subscriptionId });
      for (const c of calls) if (c.op === "subscribe" && c.projectId === projectId && !c.settled) c.resolve();
    },
    reset(projectId: string, cursor: string, reason = "retention") {
      sources.latest().frame("reset", { projectId, reason, cursor, subscriptionId: latestSubscribe(projectId)?.subscriptionId });
    },
    /** Calls made (answered or not), in order. */
    made(op: Call["op"], projectId?: string): Call[] {
      return calls.filter((c) => c.op === op && (projectId === undefined || c.projectId === projectId));
    },
    pending(op: Call["op"], projectId?: string): Call[] {
      return calls.filter((c) => c.op === op && !c.settled && (projectId === undefined || c.projectId === projectId));
    },
  };
  /** Delivers what the tabs sent, answers `connected` on the one stream, and delivers what that set off. */
  const connect = async (connectionId?: string) => {
    await flush();
    server.connected(connectionId);
    await flush();
  };
  return { holder, sources, calls, flush, connect, tab, server, tabs };
}

type Client = { client: GenerationStreamClient; applied: string[]; statuses: StreamStatus[]; resets: string[] };
type Tab = { name: string; link: TabLink; clients: Client[] };

let holders: StreamHolder[] = [];
let allClients: GenerationStreamClient[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  holders = [];
  allClients = [];
});

afterEach(() => {
  for (const c of allClients) c.close();
  for (const h of holders) h.close();
  vi.useRealTimers();
});

function track(t: ReturnType<typeof setup>) {
  holders.push(t.holder);
  return t;
}

/** Tab a live at e1:6 (the ring starts at e1:5), then tab b opened from e1:2, before the ring: the holder asks the server. */
async function lateTab() {
  const t = track(setup());
  const r = runEvents("p1", "r1");
  const a = t.tab("a").client("p1", "e1:5");
  await t.connect();
  t.server.ready("p1", "e1:5");
  t.server.event("e1:6", r.started());
  await t.flush();
  const late = t.tab("b").client("p1", "e1:2");
  await t.flush();
  return { t, r, a, late };
}

/** Tab a watches p1 from `cursor` while tab c keeps the connection open with p2, live: p1's subscription can come and go. */
async function besideAnotherProject(cursor: string) {
  const t = track(setup());
  const r = runEvents("p1", "r1");
  const first = t.tab("a").client("p1", cursor);
  t.tab("c").client("p2", null);
  await t.connect();
  t.server.ready("p2", "e2:0");
  await t.flush();
  // The first five events of p1's run (e1:1..e1:5).
  const events = [
    r.started(),
    r.stepStarted("load-context"),
    r.stepCompleted("load-context"),
    r.stepStarted("plan"),
    r.stepCompleted("plan"),
  ];
  return { t, first, events };
}

/**
 * An earlier subscribe's ready of p1 (`staleId`) arrives: the tab still waits. Then its own
 * subscribe's replay of `events` and ready: it has all of them.
 */
async function expectOnlyItsOwnReady(t: ReturnType<typeof setup>, tab: Client, events: ProgressEvent[], staleId: string | undefined) {
  t.server.source.frame("ready", { projectId: "p1", cursor: `e1:${events.length}`, subscriptionId: staleId });
  await t.flush();
  expect(status(tab)).toBe("connecting");
  for (const [i, e] of events.entries()) t.server.event(`e1:${i + 1}`, e);
  t.server.ready("p1", `e1:${events.length}`);
  await t.flush();
  expect(status(tab)).toBe("ready");
  expect(tab.applied).toEqual(events.map((_, i) => `e1:${i + 1}`));
}

function status(c: Client) {
  allClients.push(c.client);
  return c.client.getSnapshot().status;
}

describe("StreamHolder: one connection for every tab", () => {
  it("two tabs of a project share one connection and one subscription; both reach ready with the connection's id and get every event once", async () => {
    const t = track(setup());
    const r = runEvents("p1", "r1");
    const a = t.tab("a").client("p1", "e1:0");
    const b = t.tab("b").client("p1", "e1:0");
    await t.flush();
    expect(t.sources.all).toHaveLength(1);
    expect(t.sources.latest().url).toBe("/api/stream");
    t.server.connected();
    await t.flush();
    expect(t.server.pending("subscribe")).toEqual([expect.objectContaining({ connectionId: CONNECTION, projectId: "p1", cursor: "e1:0" })]);
    t.server.event("e1:1", r.started());
    t.server.ready("p1", "e1:1");
    await t.flush();
    expect([status(a), status(b)]).toEqual(["ready", "ready"]);
    expect(a.client.getSnapshot().connectionId).toBe(CONNECTION);
    t.server.event("e1:2", r.stepStarted("load-context"));
    await t.flush();
    expect(a.applied).toEqual(["e1:1", "e1:2"]);
    expect(b.applied).toEqual(["e1:1", "e1:2"]);
    await expect(b.client.waitUntilReady()).resolves.toEqual({ connectionId: CONNECTION });
  });

  it("a tab that joins later is replayed from the holder's ring after its own cursor, without a second subscribe", async () => {
    const t = track(setup());
    const r = runEvents("p1", "r1");
    const a = t.tab("a").client("p1", "e1:0");
    await t.connect();
    t.server.ready("p1", "e1:0");
    for (const [i, e] of [r.started(), r.stepStarted("load-context"), r.stepCompleted("load-context")].entries())
      t.server.event(`e1:${i + 1}`, e);
    await t.flush();
    // Its page was rendered after the first event.
    const b = t.tab("b").client("p1", "e1:1");
    await t.flush();
    expect(status(b)).toBe("ready");
    expect(b.applied).toEqual(["e1:2", "e1:3"]);
    expect(a.applied).toEqual(["e1:1", "e1:2", "e1:3"]);
    expect(t.server.made("subscribe")).toHaveLength(1);
    expect(b.client.getSnapshot().cursor).toBe("e1:3");
  });

  it("a tab whose cursor is older than the ring: the project is resubscribed from it and the server replays, while the live tab keeps getting events once each", async () => {
    const { t, r, a, late } = await lateTab();
    expect(t.server.made("subscribe").map((c) => c.cursor)).toEqual(["e1:5", "e1:2"]);
    expect(status(late)).toBe("connecting");
    // The old subscription's last live frame, then the new one's replay from the late tab's cursor.
    t.server.event("e1:7", r.stepStarted("load-context"));
    await t.flush();
    expect(a.applied).toEqual(["e1:6", "e1:7"]);
    const replay = [
      r.stepStarted("plan"),
      r.stepCompleted("plan"),
      r.stepStarted("generate-openapi"),
      r.started(),
      r.stepStarted("load-context"),
    ];
    for (const [i, e] of replay.entries()) t.server.event(`e1:${i + 3}`, e);
    t.server.event("e1:8", r.stepCompleted("load-context"));
    t.server.ready("p1", "e1:8");
    await t.flush();
    expect([status(a), status(late)]).toEqual(["ready", "ready"]);
    expect(late.applied).toEqual(["e1:3", "e1:4", "e1:5", "e1:6", "e1:7", "e1:8"]);
    expect(late.resets).toEqual([]);
    expect(a.applied).toEqual(["e1:6", "e1:7", "e1:8"]);
    // Once rewound, the ring covers it: a tab opened from there now needs no call.
    const later = t.tab("c").client("p1", "e1:2");
    await t.flush();
    expect(status(later)).toBe("ready");
    expect(later.applied).toEqual(["e1:3", "e1:4", "e1:5", "e1:6", "e1:7", "e1:8"]);
    expect(t.server.made("subscribe")).toHaveLength(2);
  });

  it("a tab rendered after an event the holder has yet to receive: the server is asked (a resubscribe from the head) instead of a reset, and the tab goes live at the event", async () => {
    const t = track(setup());
    const r = runEvents("p1", "r1");
    const a = t.tab("a").client("p1", "e1:5");
    await t.connect();
    t.server.ready("p1", "e1:5");
    await t.flush();
    const fresh = t.tab("b").client("p1", "e1:6");
    await t.flush();
    expect(t.server.made("subscribe").map((c) => c.cursor)).toEqual(["e1:5", "e1:5"]);
    // The event arrives on the old subscription; the resubscribe replays it again, then ready.
    t.server.event("e1:6", r.started());
    t.server.event("e1:6", r.started());
    t.server.ready("p1", "e1:6");
    await t.flush();
    expect([status(a), status(fresh)]).toEqual(["ready", "ready"]);
    expect(fresh.resets).toEqual([]);
    expect(fresh.applied).toEqual([]);
    expect(a.applied).toEqual(["e1:6"]);
    t.server.event("e1:7", r.stepStarted("load-context"));
    await t.flush();
    expect(fresh.applied).toEqual(["e1:7"]);
  });

  it("a cursor still past the server's head once asked is reset (future-cursor) to the head", async () => {
    const t = track(setup());
    t.tab("a").client("p1", "e1:5");
    await t.connect();
    t.server.ready("p1", "e1:5");
    await t.flush();
    const odd = t.tab("b").client("p1", "e1:99");
    await t.flush();
    t.server.ready("p1", "e1:5");
    await t.flush();
    expect(odd.resets).toEqual(["future-cursor e1:5"]);
    expect(odd.client.getSnapshot()).toMatchObject({ status: "ready", cursor: "e1:5" });
    status(odd);
    expect(t.server.made("subscribe")).toHaveLength(2);
  });

  it("a rewind longer than the ring can hold: the server is asked once, then the tab is reset (no second resubscribe), and the live tab gets each event once", async () => {
    const t = track(setup());
    const a = t.tab("a").client("p1", "e1:0");
    await t.connect();
    t.server.ready("p1", "e1:0");
    // One run each, so every event has a key of its own (the client drops a repeated key).
    const events = Array.from({ length: 2_100 }, (_, i) => runEvents("p1", `r${i}`).started());
    // In batches: flush delivers a bounded number of messages per call.
    const send = async (from: number) => {
      for (const [i, e] of events.slice(from).entries()) {
        t.server.event(`e1:${from + i + 1}`, e);
        if (i % 500 === 499) await t.flush();
      }
    };
    await send(0);
    await t.flush();
    const late = t.tab("b").client("p1", "e1:50");
    await t.flush();
    expect(t.server.made("subscribe").map((c) => c.cursor)).toEqual(["e1:0", "e1:50"]);
    await send(50);
    t.server.ready("p1", "e1:2100");
    await t.flush();
    expect(late.resets).toEqual(["retention e1:2100"]);
    expect(status(late)).toBe("ready");
    expect(t.server.made("subscribe")).toHaveLength(2);
    expect(a.applied).toHaveLength(2_100);
    expect(new Set(a.applied).size).toBe(2_100);
  });

  it("after the server resets the holder's resume cursor (away longer than retention), tabs at it or older are reset at once, without asking the server again", async () => {
    const t = track(setup());
    const r = runEvents("p1", "r1");
    const a = t.tab("a").client("p1", "e1:2");
    await t.connect();
    t.server.ready("p1", "e1:2");
    t.server.event("e1:3", r.started());
    t.server.event("e1:4", r.stepStarted("load-context"));
    await t.flush();
    t.server.source.fail();
    await t.flush();
    // A tab rendered from an older cursor opens while the holder waits out its backoff.
    const b = t.tab("b").client("p1", "e1:3");
    await t.flush();
    await vi.advanceTimersByTimeAsync(reconnectConfig.baseMs);
    await t.flush();
    t.server.connected(CONNECTION_2);
    await t.flush();
    expect(t.server.made("subscribe").at(-1)).toEqual(expect.objectContaining({ connectionId: CONNECTION_2, cursor: "e1:4" }));
    t.server.reset("p1", "e1:40", "retention");
    t.server.ready("p1", "e1:40");
    await t.flush();
    expect([a.resets, b.resets]).toEqual([["retention e1:40"], ["retention e1:40"]]);
    expect([a.client.getSnapshot().cursor, b.client.getSnapshot().cursor]).toEqual(["e1:40", "e1:40"]);
    expect([status(a), status(b)]).toEqual(["ready", "ready"]);
    expect(t.server.made("subscribe", "p1").filter((c) => c.connectionId === CONNECTION_2)).toHaveLength(1);
  });

  it("a rewind the server cannot replay either (retention): the late tab is reset, and so is a live tab that now lacks events up to the log's head", async () => {
    const { t, a, late } = await lateTab();
    t.server.reset("p1", "e1:9", "retention");
    t.server.ready("p1", "e1:9");
    await t.flush();
    expect(late.resets).toEqual(["retention e1:9"]);
    expect(a.resets).toEqual(["retention e1:9"]);
    expect([status(a), status(late)]).toEqual(["ready", "ready"]);
    expect([a.client.getSnapshot().cursor, late.client.getSnapshot().cursor]).toEqual(["e1:9", "e1:9"]);
  });

  it("a rewind whose subscribe dies before its ready does not make the ring claim the older cursor: a tab opened from there later is replayed by the server", async () => {
    const { t, r, a, late } = await lateTab();
    late.client.close();
    // The connection dies before the rewind's replay; only the live tab comes back (from e1:6).
    t.server.source.fail();
    t.server.pending("subscribe", "p1")[0]!.reject(new SubscriptionCallError("PRECONDITION_FAILED", "connection not open"));
    await t.flush();
    await vi.advanceTimersByTimeAsync(reconnectConfig.baseMs);
    await t.flush();
    t.server.connected(CONNECTION_2);
    await t.flush();
    expect(t.server.made("subscribe").at(-1)).toEqual(expect.objectContaining({ connectionId: CONNECTION_2, cursor: "e1:6" }));
    t.server.ready("p1", "e1:6");
    await t.flush();
    expect(status(a)).toBe("ready");
    const third = t.tab("c").client("p1", "e1:3");
    await t.flush();
    expect(t.server.made("subscribe").at(-1)).toEqual(expect.objectContaining({ connectionId: CONNECTION_2, cursor: "e1:3" }));
    for (const [i, e] of [r.stepStarted("plan"), r.stepCompleted("plan"), r.started()].entries()) t.server.event(`e1:${i + 4}`, e);
    t.server.ready("p1", "e1:6");
    await t.flush();
    expect(third.applied).toEqual(["e1:4", "e1:5", "e1:6"]);
    expect(third.resets).toEqual([]);
    expect(a.applied).toEqual(["e1:6"]);
  });

  it("a subscribe whose answer was lost: its tab retries, the server's subscription is unsubscribed, and its ready (still in flight) is not taken for the next subscribe's", async () => {
    const { t, first, events } = await besideAnotherProject("e1:3");
    // The server replayed e1:4..e1:6 for it, but the answer never arrived (offline, a proxy reset).
    for (const [i, e] of events.slice(3).entries()) t.server.event(`e1:${i + 4}`, e);
    t.server.pending("subscribe", "p1")[0]!.reject(new SubscriptionCallError(undefined, "fetch failed"));
    await t.flush();
    expect(first.client.getSnapshot()).toMatchObject({ status: "connecting", lastError: { code: "UNAVAILABLE", message: "fetch failed" } });
    expect(t.server.made("unsubscribe", "p1")).toHaveLength(1);
    first.client.close();
    const second = t.tab("b").client("p1", "e1:0");
    await t.flush();
    t.server.pending("unsubscribe", "p1")[0]!.resolve();
    await t.flush();
    const [lost, next] = t.server.made("subscribe", "p1");
    expect(next).toEqual(expect.objectContaining({ cursor: "e1:0" }));
    await expectOnlyItsOwnReady(t, second, events, lost!.subscriptionId);
  });

  it("each project is its own subscription on the one connection, and frames reach only that project's clients", async () => {
    const t = track(setup());
    const a = t.tab("a").client("p1", "e1:0");
    const b = t.tab("b").client("p2", "e2:0");
    await t.connect();
    expect(t.server.pending("subscribe").map((c) => c.projectId)).toEqual(["p1", "p2"]);
    t.server.ready("p1", "e1:0");
    t.server.ready("p2", "e2:0");
    t.server.event("e1:1", runEvents("p1", "r1").started());
    t.server.event("e2:1", runEvents("p2", "r2").started());
    await t.flush();
    expect(a.applied).toEqual(["e1:1"]);
    expect(b.applied).toEqual(["e2:1"]);
    expect(t.sources.all).toHaveLength(1);
  });

  it("reference counts: the project is unsubscribed when its last source closes, and the connection closes with the last project", async () => {
    const t = track(setup());
    const a = t.tab("a").client("p1", "e1:0");
    const b = t.tab("b").client("p1", "e1:0");
    const other = t.tab("c").client("p2", "e2:0");
    await t.connect();
    t.server.ready("p1", "e1:0");
    t.server.ready("p2", "e2:0");
    await t.flush();
    a.client.close();
    await t.flush();
    expect(t.server.pending("unsubscribe")).toHaveLength(0);
    expect(t.holder.sourceCounts()).toEqual(
      new Map([
        ["p1", 1],
        ["p2", 1],
      ]),
    );
    b.client.close();
    await t.flush();
    expect(t.server.made("unsubscribe")).toEqual([expect.objectContaining({ projectId: "p1", connectionId: CONNECTION })]);
    expect(t.holder.connectionState).toBe("open");
    // The last project: closing the connection ends its subscription on the server, no call needed.
    other.client.close();
    await t.flush();
    expect(t.server.made("unsubscribe")).toHaveLength(1);
    expect(t.sources.latest().closed).toBe(true);
    expect(t.holder.connectionState).toBe("idle");
  });

  it("a tab that goes away (bye, or its lock freed) drops its sources", async () => {
    const t = track(setup());
    const tabA = t.tab("a");
    tabA.client("p1", "e1:0");
    const b = t.tab("b").client("p2", "e2:0");
    await t.connect();
    t.server.ready("p1", "e1:0");
    t.server.ready("p2", "e2:0");
    await t.flush();
    tabA.link.bye();
    await t.flush();
    expect(t.server.made("unsubscribe").map((c) => c.projectId)).toEqual(["p1"]);
    t.holder.removeTab("b");
    await t.flush();
    expect(t.server.made("unsubscribe").map((c) => c.projectId)).toEqual(["p1"]);
    expect(t.sources.latest().closed).toBe(true);
    expect(b.client.getSnapshot().status).toBe("ready");
    expect(t.holder.connectionState).toBe("idle");
  });

  it("a dropped connection: every tab shows reconnecting, then catches up from its own last id on the new connection, with no gap and no duplicate", async () => {
    const t = track(setup());
    const r = runEvents("p1", "r1");
    const a = t.tab("a").client("p1", "e1:0");
    const b = t.tab("b").client("p1", "e1:0");
    await t.connect();
    t.server.ready("p1", "e1:0");
    t.server.event("e1:1", r.started());
    await t.flush();
    t.server.source.fail();
    await t.flush();
    expect([status(a), status(b)]).toEqual(["reconnecting", "reconnecting"]);
    expect(t.sources.latest().closed).toBe(true);
    // Holder and clients each wait out their backoff (named, full jitter; HALF = half the ceiling).
    await vi.advanceTimersByTimeAsync(reconnectConfig.baseMs);
    await t.flush();
    expect(t.sources.all).toHaveLength(2);
    t.server.connected(CONNECTION_2);
    await t.flush();
    // The holder resumes from the last event it received, so its ring continues.
    expect(t.server.made("subscribe").at(-1)).toEqual(expect.objectContaining({ connectionId: CONNECTION_2, cursor: "e1:1" }));
    t.server.event("e1:2", r.stepStarted("load-context"));
    t.server.ready("p1", "e1:2");
    await t.flush();
    expect([status(a), status(b)]).toEqual(["ready", "ready"]);
    expect(a.statuses).toContain("catching-up");
    expect(a.applied).toEqual(["e1:1", "e1:2"]);
    expect(b.applied).toEqual(["e1:1", "e1:2"]);
    expect(a.client.getSnapshot().connectionId).toBe(CONNECTION_2);
  });

  it("a refused subscribe (another user's project) ends that project's sources with the server's error; the connection stays", async () => {
    const t = track(setup());
    const tabA = t.tab("a");
    const mine = tabA.client("p1", "e1:0");
    const theirs = tabA.client("p2", null);
    await t.connect();
    t.server.pending("subscribe", "p2")[0]!.reject(new SubscriptionCallError("FORBIDDEN", "You do not have access to this project."));
    t.server.ready("p1", "e1:0");
    await t.flush();
    expect(status(theirs)).toBe("error");
    expect(theirs.client.getSnapshot().lastError).toMatchObject({
      kind: "server",
      code: "FORBIDDEN",
      message: "You do not have access to this project.",
    });
    await expect(theirs.client.waitUntilReady()).rejects.toThrow("You do not have access to this project.");
    expect(status(mine)).toBe("ready");
    expect(t.sources.all).toHaveLength(1);
  });

  it("a subscribe over the user's stream limit stops that tab with the limit's words (FORBIDDEN, as the per-project stream says it)", async () => {
    const t = track(setup());
    const a = t.tab("a").client("p1", null);
    await t.connect();
    t.server.pending("subscribe")[0]!.reject(new SubscriptionCallError("TOO_MANY_REQUESTS", "You have 20 live streams open."));
    await t.flush();
    expect(status(a)).toBe("error");
    expect(a.client.getSnapshot().lastError).toMatchObject({ code: "FORBIDDEN", message: "You have 20 live streams open." });
  });

  it("a transient subscribe failure makes the source retry after backoff; 'connection not open' makes the holder open a new connection", async () => {
    const t = track(setup());
    const a = t.tab("a").client("p1", "e1:0");
    await t.connect();
    t.server.pending("subscribe")[0]!.reject(new SubscriptionCallError("SERVICE_UNAVAILABLE", "Live progress is temporarily unavailable"));
    await t.flush();
    expect(status(a)).toBe("connecting");
    expect(a.client.getSnapshot().lastError).toMatchObject({
      kind: "server",
      code: "UNAVAILABLE",
      message: "Live progress is temporarily unavailable",
    });
    // Its only source gone, the holder let the connection go; the client's retry opens the next one.
    expect(t.holder.connectionState).toBe("idle");
    await vi.advanceTimersByTimeAsync(reconnectConfig.baseMs);
    await t.flush();
    expect(t.sources.all).toHaveLength(2);
    t.server.connected(CONNECTION_2);
    await t.flush();
    t.server.pending("subscribe")[0]!.reject(new SubscriptionCallError("PRECONDITION_FAILED", "Stream connection is not open"));
    await t.flush();
    expect(t.sources.all[1]!.closed).toBe(true);
    expect(status(a)).toBe("connecting");
    await vi.advanceTimersByTimeAsync(reconnectConfig.capMs);
    await t.flush();
    expect(t.sources.all).toHaveLength(3);
    t.server.connected(CONNECTION);
    await t.flush();
    t.server.ready("p1", "e1:0");
    await t.flush();
    expect(status(a)).toBe("ready");
    expect(a.client.getSnapshot().connectionId).toBe(CONNECTION);
  });

  it("a terminal error on the connection (signed out) reaches every source, and nothing reconnects until a source opens again", async () => {
    const t = track(setup());
    const a = t.tab("a").client("p1", "e1:0");
    await t.flush();
    t.server.source.frame("error", { code: "UNAUTHORIZED", message: "Sign in to watch this project." });
    await t.flush();
    expect(status(a)).toBe("error");
    expect(t.holder.connectionState).toBe("failed");
    await vi.advanceTimersByTimeAsync(reconnectConfig.capMs);
    expect(t.sources.all).toHaveLength(1);
    a.client.retry();
    await t.flush();
    expect(t.sources.all).toHaveLength(2);
  });

  it("a server reset of the holder's own cursor resets every waiting source to the log's head", async () => {
    const t = track(setup());
    const waiting = t.tab("a").client("p1", "e1:3");
    await t.connect();
    t.server.reset("p1", "e9:40", "unknown-log");
    t.server.ready("p1", "e9:40");
    await t.flush();
    expect(waiting.resets).toEqual(["unknown-log e9:40"]);
    expect(waiting.client.getSnapshot()).toMatchObject({ status: "ready", cursor: "e9:40" });
    status(waiting);
  });

  it("resubscribed right after an unsubscribe, late frames of the old subscription do not hide the new replay", async () => {
    const t = track(setup());
    const r = runEvents("p1", "r1");
    const tabA = t.tab("a");
    const first = tabA.client("p1", "e1:0");
    // Another project keeps the connection open meanwhile.
    t.tab("b").client("p2", null);
    await t.connect();
    t.server.ready("p1", "e1:0");
    t.server.ready("p2", "e2:0");
    await t.flush();
    first.client.close();
    await t.flush();
    const second = tabA.client("p1", "e1:0");
    await t.flush();
    t.server.pending("unsubscribe")[0]!.resolve();
    await t.flush();
    expect(t.server.made("subscribe", "p1")).toHaveLength(2);
    // A frame the old subscription wrote just before its unsubscribe arrives after the new subscribe began…
    t.server.event("e1:3", r.stepCompleted("load-context"));
    // …then the new subscription's replay, from the start.
    t.server.event("e1:1", r.started());
    t.server.event("e1:2", r.stepStarted("load-context"));
    t.server.event("e1:3", r.stepCompleted("load-context"));
    t.server.ready("p1", "e1:3");
    await t.flush();
    expect(second.applied).toEqual(["e1:1", "e1:2", "e1:3"]);
  });

  it("a drop while resubscribing after an unsubscribe: the new connection replays from the tab's cursor, not from a late frame of the old subscription", async () => {
    const t = track(setup());
    const r = runEvents("p1", "r1");
    const tabA = t.tab("a");
    const first = tabA.client("p1", "e1:0");
    t.tab("b").client("p2", null);
    await t.connect();
    t.server.ready("p1", "e1:0");
    t.server.ready("p2", "e2:0");
    await t.flush();
    first.client.close();
    await t.flush();
    const second = tabA.client("p1", "e1:0");
    await t.flush();
    t.server.pending("unsubscribe")[0]!.resolve();
    await t.flush();
    // The old subscription's last frame arrives past the replay still to come; then the connection dies.
    t.server.event("e1:3", r.stepCompleted("load-context"));
    await t.flush();
    t.server.source.fail();
    t.server.pending("subscribe", "p1")[0]!.reject(new SubscriptionCallError("PRECONDITION_FAILED", "connection not open"));
    // A tab opens the project while the holder waits out its backoff, so the feed outlives the drop.
    const third = t.tab("c").client("p1", "e1:0");
    await t.flush();
    await vi.advanceTimersByTimeAsync(reconnectConfig.baseMs);
    await t.flush();
    t.server.connected(CONNECTION_2);
    await t.flush();
    expect(t.server.made("subscribe", "p1").at(-1)).toEqual(expect.objectContaining({ connectionId: CONNECTION_2, cursor: "e1:0" }));
    t.server.event("e1:1", r.started());
    t.server.event("e1:2", r.stepStarted("load-context"));
    t.server.event("e1:3", r.stepCompleted("load-context"));
    t.server.ready("p1", "e1:3");
    await t.flush();
    expect([status(second), status(third)]).toEqual(["ready", "ready"]);
    expect(second.applied).toEqual(["e1:1", "e1:2", "e1:3"]);
    expect(third.applied).toEqual(["e1:1", "e1:2", "e1:3"]);
  });

  it("a replaced subscription's ready still in flight is not taken for the new one's (no tab skips the replay)", async () => {
    const { t, first, events } = await besideAnotherProject("e1:0");
    // The first subscribe replays five events; its tab closes before its ready is read.
    for (const [i, e] of events.entries()) t.server.event(`e1:${i + 1}`, e);
    await t.flush();
    first.client.close();
    const second = t.tab("b").client("p1", "e1:0");
    await t.flush();
    t.server.pending("subscribe", "p1")[0]!.resolve();
    await t.flush();
    t.server.pending("unsubscribe", "p1")[0]!.resolve();
    await t.flush();
    expect(t.server.made("subscribe", "p1")).toHaveLength(2);
    // The first subscription's ready arrives now, then the second's replay and ready.
    await expectOnlyItsOwnReady(t, second, events, t.server.made("subscribe", "p1")[0]!.subscriptionId);
  });

  it("ignores messages that are not the holder's, and frames of projects nobody watches", async () => {
    const t = track(setup());
    const tabA = t.tab("a");
    const a = tabA.client("p1", "e1:0");
    await t.connect();
    t.server.ready("p1", "e1:0");
    t.server.event("e2:1", runEvents("p2", "r2").started());
    tabA.link.receive({ t: "frame", sourceId: 42 });
    tabA.link.receive("hello");
    await t.flush();
    expect(a.applied).toEqual([]);
    expect(status(a)).toBe("ready");
  });
});
