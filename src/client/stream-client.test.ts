import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { reconnectConfig } from "../streaming/config";
import type { ProgressEvent, ResetFrame } from "../streaming/protocol";
import type { RunSnapshot } from "./run-snapshot";
import { GenerationStreamClient, type GenerationStreamClientOptions } from "./stream-client";
import { StreamNotReadyError } from "./stream-errors";
import { STREAM_OBSERVER_KEY, type ObservedFrame } from "./stream-observer";
import type { StreamStatus } from "./stream-snapshot";
import { keyOf, runEvents } from "./testing/events";
import { fakeEventSources, type FakeEventSource } from "./testing/fake-event-source";

/** random() = 0.5: each backoff delay is half its ceiling, so tests know exactly when reconnects happen. */
const HALF = () => 0.5;
const firstDelay = Math.floor(0.5 * reconnectConfig.baseMs);

let clients: GenerationStreamClient[] = [];

function setup(options: Partial<GenerationStreamClientOptions> = {}) {
  const sources = fakeEventSources();
  /** What the client reported to its observer: every progress frame, and the ids it applied. */
  const observed: { projectId: string; frame: ObservedFrame }[] = [];
  const applied: string[] = [];
  const client = new GenerationStreamClient({
    projectId: "p1",
    initialCursor: "e1:0",
    createEventSource: sources.create,
    random: HALF,
    observer: (projectId, frame) => {
      observed.push({ projectId, frame });
      if (frame.applied) applied.push(frame.id);
    },
    ...options,
  });
  clients.push(client);
  const statuses: StreamStatus[] = [client.getSnapshot().status];
  client.subscribe(() => {
    const status = client.getSnapshot().status;
    if (statuses.at(-1) !== status) statuses.push(status);
  });
  return { client, sources, statuses, observed, applied };
}

/** Sends events with ids e1:<from>, e1:<from+1>, … and returns the ids. */
function send(source: FakeEventSource, events: ProgressEvent[], from = 1): string[] {
  return events.map((event, i) => {
    const id = `e1:${from + i}`;
    source.progress(id, keyOf(event), event);
    return id;
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  clients = [];
});

afterEach(() => {
  for (const c of clients) c.close();
  vi.useRealTimers();
});

describe("GenerationStreamClient: handshake", () => {
  it("opens the stream at the initial cursor and is ready only after the ready frame", () => {
    const { client, sources } = setup();
    const source = sources.latest();
    expect(source.url).toBe("/api/projects/p1/events?cursor=e1%3A0");
    source.open();
    expect(client.getSnapshot().status).toBe("connecting");
    expect(client.getSnapshot().connectionId).toBeNull();
    source.ready("conn-1", "e1:0");
    expect(client.getSnapshot()).toMatchObject({ status: "ready", connectionId: "conn-1", cursor: "e1:0" });
  });

  it("waitUntilReady resolves on the next ready, and at once when already ready", async () => {
    const { client, sources } = setup();
    const waiting = client.waitUntilReady();
    sources.latest().ready("conn-1", "e1:0");
    await expect(waiting).resolves.toEqual({ connectionId: "conn-1" });
    await expect(client.waitUntilReady()).resolves.toEqual({ connectionId: "conn-1" });
  });

  it("waitUntilReady rejects with StreamNotReadyError on timeout", async () => {
    const { client, sources } = setup();
    sources.latest().open();
    const waiting = client.waitUntilReady(2_000);
    const assertion = expect(waiting).rejects.toThrow(/Could not connect to the live stream within 2s.*retry/);
    vi.advanceTimersByTime(2_000);
    await assertion;
    const again = expect(client.waitUntilReady(1)).rejects.toBeInstanceOf(StreamNotReadyError);
    vi.advanceTimersByTime(1);
    await again;
  });

  it("waitUntilReady uses the configured ready timeout by default", async () => {
    const { client } = setup();
    let settled = false;
    const waiting = client.waitUntilReady().catch((error: unknown) => {
      settled = true;
      return error;
    });
    vi.advanceTimersByTime(reconnectConfig.readyTimeoutMs - 1);
    await Promise.resolve();
    expect(settled).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await waiting).toBeInstanceOf(StreamNotReadyError);
  });

  it("reports a missing EventSource as a drop instead of throwing", () => {
    let calls = 0;
    const sources = fakeEventSources();
    const { client } = setup({
      createEventSource: (url) => {
        calls += 1;
        if (calls === 1) throw new Error("no EventSource here");
        return sources.create(url);
      },
    });
    expect(client.getSnapshot().lastError?.message).toMatch(/no EventSource here/);
    vi.advanceTimersByTime(firstDelay);
    expect(sources.all).toHaveLength(1);
  });
});

describe("GenerationStreamClient: events", () => {
  it("applies events in order and records their ids and cursor", () => {
    const { client, sources, applied } = setup();
    const source = sources.latest();
    const ids = send(source, runEvents("p1", "r1").fullRun());
    source.ready("conn-1", ids.at(-1) as string);
    const snap = client.getSnapshot();
    expect(applied).toEqual(ids);
    expect(snap.applied).toBe(ids.length);
    expect(snap.cursor).toBe(ids.at(-1));
    expect(snap.runs[0]?.status).toBe("completed");
  });

  it("drops duplicate ids, and duplicate keys under a new id while still advancing the cursor", () => {
    const { client, sources, applied, observed } = setup();
    const source = sources.latest();
    source.ready("conn-1", "e1:0");
    const ev = runEvents("p1", "r1");
    const started = ev.started();
    const stepStarted = ev.stepStarted("plan");
    source.progress("e1:1", keyOf(started), started);
    source.progress("e1:1", keyOf(started), started);
    source.progress("e1:2", keyOf(stepStarted), stepStarted);
    const retried = ev.stepStarted("plan", 1);
    source.progress("e1:3", keyOf(retried), retried);
    const snap = client.getSnapshot();
    expect(applied).toEqual(["e1:1", "e1:2"]);
    // The observer also sees what the tab dropped: the same id again, and a re-emitted key under a new id.
    expect(observed.map(({ projectId, frame }) => [projectId, frame.id, frame.type, frame.applied])).toEqual([
      ["p1", "e1:1", "run.started", true],
      ["p1", "e1:1", "run.started", false],
      ["p1", "e1:2", "step.started", true],
      ["p1", "e1:3", "step.started", false],
    ]);
    expect(snap.cursor).toBe("e1:3");
    expect(snap.runs[0]?.steps.find((s) => s.name === "plan")?.attempt).toBe(0);
  });

  it("drops malformed frames without crashing and records them in lastError", () => {
    const { client, sources, applied } = setup();
    const source = sources.latest();
    source.ready("conn-1", "e1:0");
    const good = runEvents("p1", "r1").started();
    const before = client.getSnapshot();
    source.frame("run.started", "{not json", "e1:1");
    expect(client.getSnapshot().lastError).toMatchObject({ kind: "frame", message: expect.stringMatching(/not JSON/) });
    source.frame("step.started", { key: "k", event: { type: "step.started", runId: 3 } }, "e1:1");
    source.progress("e1:1", "k-other", { ...good, projectId: "p2" });
    source.frame("ready", { connectionId: 7 });
    source.frame("ping", "nope");
    source.frame("reset", { reason: "whatever", cursor: "e1:0" });
    source.frame("error", { code: "TEAPOT", message: "x" });
    const after = client.getSnapshot();
    expect(after.status).toBe("ready");
    expect(after.connectionId).toBe("conn-1");
    expect(after.runs).toBe(before.runs);
    expect(applied).toEqual([]);
    expect(after.lastError?.kind).toBe("frame");
    // The stream keeps working afterwards.
    source.progress("e1:1", keyOf(good), good);
    expect(applied).toEqual(["e1:1"]);
    expect(sources.all).toHaveLength(1);
  });

  it("gives useSyncExternalStore a stable snapshot: a new object only on change", () => {
    const { client, sources } = setup();
    const source = sources.latest();
    source.ready("conn-1", "e1:0");
    const a = client.getSnapshot();
    expect(client.getSnapshot()).toBe(a);
    source.frame("ping", { t: 1 });
    expect(client.getSnapshot()).toBe(a);
    send(source, [runEvents("p1", "r1").started()]);
    const b = client.getSnapshot();
    expect(b).not.toBe(a);
    expect(Object.isFrozen(b)).toBe(true);
    expect(client.getSnapshot()).toBe(b);
  });
});

describe("GenerationStreamClient: reconnects", () => {
  it("closes the socket on a drop and reconnects after backoff from the last id", () => {
    const { client, sources } = setup();
    const first = sources.latest();
    first.ready("conn-1", "e1:0");
    const ev = runEvents("p1", "r1");
    send(first, [ev.started(), ev.stepStarted("load-context")]);
    first.fail();
    expect(first.closed).toBe(true);
    expect(client.getSnapshot()).toMatchObject({ status: "reconnecting", connectionId: null });
    vi.advanceTimersByTime(firstDelay - 1);
    expect(sources.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sources.all).toHaveLength(2);
    expect(sources.latest().cursor).toBe("e1:2");
  });

  it("goes connecting -> ready -> reconnecting -> catching-up -> ready when replayed events precede ready", () => {
    const { client, sources, statuses, applied } = setup();
    const ev = runEvents("p1", "r1");
    sources.latest().ready("conn-1", "e1:0");
    send(sources.latest(), [ev.started()]);
    sources.latest().fail();
    vi.advanceTimersByTime(firstDelay);
    const second = sources.latest();
    second.open();
    expect(client.getSnapshot().status).toBe("reconnecting");
    send(second, [ev.stepStarted("load-context"), ev.stepCompleted("load-context")], 2);
    expect(client.getSnapshot().status).toBe("catching-up");
    second.ready("conn-2", "e1:3");
    expect(statuses).toEqual(["connecting", "ready", "reconnecting", "catching-up", "ready"]);
    expect(client.getSnapshot()).toMatchObject({ connectionId: "conn-2" });
    expect(applied).toEqual(["e1:1", "e1:2", "e1:3"]);
  });

  it("goes straight from reconnecting to ready when there is no gap", () => {
    const { sources, statuses } = setup();
    sources.latest().ready("conn-1", "e1:0");
    sources.latest().frame("close", { reason: "max-duration" });
    vi.advanceTimersByTime(firstDelay);
    expect(sources.latest().cursor).toBe("e1:0");
    sources.latest().ready("conn-2", "e1:0");
    expect(statuses).toEqual(["connecting", "ready", "reconnecting", "ready"]);
  });

  it("resumes by id after a server close frame", () => {
    const { client, sources } = setup();
    const first = sources.latest();
    first.ready("conn-1", "e1:0");
    send(first, [runEvents("p1", "r1").started()]);
    first.frame("close", { reason: "slow-consumer" });
    expect(first.closed).toBe(true);
    expect(client.getSnapshot().lastError?.message).toMatch(/slow-consumer/);
    vi.advanceTimersByTime(firstDelay);
    expect(sources.latest().cursor).toBe("e1:1");
  });

  it("treats silence as a drop, while pings keep the connection alive", () => {
    const { client, sources } = setup();
    const first = sources.latest();
    first.ready("conn-1", "e1:0");
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(reconnectConfig.silenceMs - 1);
      first.frame("ping", { t: i });
    }
    expect(first.closed).toBe(false);
    vi.advanceTimersByTime(reconnectConfig.silenceMs);
    expect(first.closed).toBe(true);
    expect(client.getSnapshot().status).toBe("reconnecting");
    expect(client.getSnapshot().lastError?.message).toMatch(/No data/);
    vi.advanceTimersByTime(firstDelay);
    expect(sources.all).toHaveLength(2);
  });

  it("backs off further on each failed attempt and starts over after a healthy connection", () => {
    let now = 0;
    const { sources } = setup({ now: () => now });
    const opened = () => sources.all.length;
    const delays: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      sources.latest().fail();
      const before = opened();
      let waited = 0;
      while (opened() === before) {
        vi.advanceTimersByTime(1);
        waited += 1;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([0, 1, 2].map((n) => Math.floor(0.5 * reconnectConfig.baseMs * 2 ** n)));
    sources.latest().ready("conn-1", "e1:0");
    now += reconnectConfig.healthyAfterMs;
    sources.latest().fail();
    vi.advanceTimersByTime(firstDelay);
    expect(opened()).toBe(5);
  });

  it("reports to the observer a test installed on globalThis, and to none when nothing is installed", () => {
    const seen: string[] = [];
    Reflect.set(globalThis, STREAM_OBSERVER_KEY, (projectId: string, frame: ObservedFrame) => seen.push(`${projectId} ${frame.id}`));
    try {
      const { sources } = setup({ observer: undefined });
      send(sources.latest(), [runEvents("p1", "r1").started()]);
    } finally {
      Reflect.deleteProperty(globalThis, STREAM_OBSERVER_KEY);
    }
    const { client, sources } = setup({ observer: undefined });
    send(sources.latest(), [runEvents("p1", "r2").started()]);
    expect(seen).toEqual(["p1 e1:1"]);
    expect(client.getSnapshot().applied).toBe(1);
  });

  it("ignores frames from a socket it already closed", () => {
    const { client, sources, applied } = setup();
    const first = sources.latest();
    first.fail();
    first.ready("stale", "e1:0");
    send(first, [runEvents("p1", "r1").started()]);
    expect(client.getSnapshot()).toMatchObject({ status: "connecting", connectionId: null });
    expect(applied).toEqual([]);
  });
});

describe("GenerationStreamClient: server errors", () => {
  it.each(["NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "BAD_REQUEST"] as const)("stops on %s and rejects waiters", async (code) => {
    const { client, sources } = setup();
    const waiting = client.waitUntilReady();
    const assertion = expect(waiting).rejects.toThrow(/Could not connect to the live stream: no such project/);
    sources.latest().frame("error", { code, message: "no such project" });
    await assertion;
    const snap = client.getSnapshot();
    expect(snap.status).toBe("error");
    expect(snap.lastError).toMatchObject({ kind: "server", code, message: "no such project" });
    expect(sources.latest().closed).toBe(true);
    vi.advanceTimersByTime(reconnectConfig.capMs * 10);
    expect(sources.all).toHaveLength(1);
    await expect(client.waitUntilReady()).rejects.toMatchObject({ name: "StreamNotReadyError", reason: "error" });
  });

  it.each(["INTERNAL", "UNAVAILABLE"] as const)("reconnects with backoff after %s", (code) => {
    const { client, sources } = setup();
    sources.latest().ready("conn-1", "e1:0");
    sources.latest().frame("error", { code, message: "try later" });
    expect(client.getSnapshot().status).toBe("reconnecting");
    vi.advanceTimersByTime(firstDelay);
    expect(sources.all).toHaveLength(2);
    sources.latest().ready("conn-2", "e1:0");
    expect(client.getSnapshot().status).toBe("ready");
  });

  it("retry() reconnects at once from error, with a fresh backoff", async () => {
    const { client, sources, statuses } = setup();
    sources.latest().frame("error", { code: "UNAUTHORIZED", message: "log in" });
    client.retry();
    expect(sources.all).toHaveLength(2);
    expect(sources.latest().cursor).toBe("e1:0");
    const waiting = client.waitUntilReady();
    sources.latest().ready("conn-2", "e1:0");
    await expect(waiting).resolves.toEqual({ connectionId: "conn-2" });
    expect(statuses).toEqual(["connecting", "error", "connecting", "ready"]);
  });

  it("close() stops everything and rejects pending waiters", async () => {
    const { client, sources } = setup();
    const waiting = client.waitUntilReady();
    client.close();
    await expect(waiting).rejects.toMatchObject({ reason: "closed" });
    expect(sources.latest().closed).toBe(true);
    vi.advanceTimersByTime(reconnectConfig.silenceMs * 2);
    expect(sources.all).toHaveLength(1);
  });
});

describe("GenerationStreamClient: reset", () => {
  const refetched: RunSnapshot[] = [
    {
      runId: "r1",
      messageId: "msg-r1",
      status: "running",
      startedAt: 1_000,
      finishedAt: null,
      reason: null,
      steps: [
        { name: "load-context", state: "completed", attempt: 0, startedAt: 1_010, completedAt: 1_020, durationMs: 10 },
        { name: "plan", state: "completed", attempt: 0, startedAt: 1_020, completedAt: 1_030, durationMs: 10 },
      ],
    },
  ];

  it("calls onReset, replaces state with its result, re-applies events that arrived meanwhile, and continues", async () => {
    let resolveRefetch: (value: { runs: RunSnapshot[]; cursor: string }) => void = () => {};
    const frames: ResetFrame[] = [];
    const { client, sources } = setup({
      initialCursor: "old:7",
      onReset: (frame) => {
        frames.push(frame);
        return new Promise((resolve) => {
          resolveRefetch = resolve;
        });
      },
    });
    const source = sources.latest();
    source.frame("reset", { reason: "unknown-log", cursor: "e2:40" });
    expect(frames).toEqual([{ reason: "unknown-log", cursor: "e2:40" }]);
    expect(client.getSnapshot().cursor).toBe("e2:40");
    source.ready("conn-1", "e2:40");
    const live = runEvents("p1", "r1", "msg-r1", 2_000).stepStarted("generate-openapi");
    source.progress("e2:41", keyOf(live), live);

    resolveRefetch({ runs: refetched, cursor: "e2:40" });
    await vi.advanceTimersByTimeAsync(0);
    const run = client.getSnapshot().runs[0];
    expect(run?.steps.map((s) => s.state).slice(0, 3)).toEqual(["completed", "completed", "running"]);
    expect(client.getSnapshot().cursor).toBe("e2:41");

    const next = runEvents("p1", "r1", "msg-r1", 3_000).stepCompleted("generate-openapi");
    source.progress("e2:42", keyOf(next), next);
    expect(client.getSnapshot().runs[0]?.steps[2]?.state).toBe("completed");
    source.fail();
    vi.advanceTimersByTime(firstDelay);
    expect(sources.latest().cursor).toBe("e2:42");
  });

  it("continues from the reset cursor when onReset returns nothing, and records a failing refetch", async () => {
    const { client, sources } = setup({ onReset: () => Promise.reject(new Error("db down")) });
    sources.latest().frame("reset", { reason: "retention", cursor: "e1:99" });
    expect(client.getSnapshot().cursor).toBe("e1:99");
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot().lastError).toMatchObject({ kind: "reset", message: expect.stringMatching(/db down/) });
    sources.latest().ready("conn-1", "e1:99");
    expect(client.getSnapshot().status).toBe("ready");
  });

  it("replaceState validates its input and never moves the cursor backwards", () => {
    const { client, sources } = setup();
    sources.latest().ready("conn-1", "e1:5");
    client.replaceState(refetched, "e1:3");
    expect(client.getSnapshot().cursor).toBe("e1:5");
    expect(client.getSnapshot().runs).toHaveLength(1);
    client.replaceState([{ ...refetched[0], status: "exploded" } as unknown as RunSnapshot], "e1:9");
    expect(client.getSnapshot().lastError?.kind).toBe("reset");
    expect(client.getSnapshot().cursor).toBe("e1:5");
  });
});
