import { describe, expect, it } from "vitest";
import type { RunView } from "../../types";
import type { EventView, Snapshot } from "../protocol";
import { applyFrame, filterRuns, type DashboardState } from "./store";

function run(runId: string, extra: Partial<RunView> = {}): RunView {
  return {
    runId,
    functionId: "app-fn",
    status: "Running",
    eventId: "01JE000000000000000000000E",
    event: { internalId: "01JE000000000000000000000E", id: "e", name: "t/x", data: {}, ts: 0 },
    queuedAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:00:00.000Z",
    timeline: [],
    ...extra,
  };
}

function event(internalId: string): EventView {
  return { internalId, id: internalId, name: "t/x", data: {}, ts: 0, receivedAt: "2026-01-01T00:00:00.000Z", payload: {} };
}

const snapshot = (runs: RunView[], events: EventView[] = []): Snapshot => ({
  auth: "none",
  health: {} as Snapshot["health"],
  functions: [],
  runs,
  events,
  totals: { runs: runs.length + 10, events: events.length },
});

describe("applyFrame", () => {
  it("starts from the snapshot and ignores changes before one", () => {
    expect(applyFrame(null, { type: "run", data: run("01JR0000000000000000000001") })).toBeNull();
    const state = applyFrame(null, { type: "snapshot", data: snapshot([run("01JR0000000000000000000001")]) });
    expect(state?.runs.map((r) => r.runId)).toEqual(["01JR0000000000000000000001"]);
    expect(state?.totals.runs).toBe(11);
  });

  it("replaces a known run in place and puts a new one newest first, counting it once", () => {
    let state: DashboardState | null = applyFrame(null, {
      type: "snapshot",
      data: snapshot([run("01JR0000000000000000000003"), run("01JR0000000000000000000001")]),
    });
    state = applyFrame(state, { type: "run", data: run("01JR0000000000000000000001", { status: "Completed" }) });
    expect(state?.runs.map((r) => [r.runId.slice(-1), r.status])).toEqual([
      ["3", "Running"],
      ["1", "Completed"],
    ]);
    state = applyFrame(state, { type: "run", data: run("01JR0000000000000000000004") });
    state = applyFrame(state, { type: "run", data: run("01JR0000000000000000000002") });
    state = applyFrame(state, { type: "run", data: run("01JR0000000000000000000004", { status: "Failed" }) });
    expect(state?.runs.map((r) => r.runId.slice(-1))).toEqual(["4", "3", "2", "1"]);
    expect(state?.totals.runs).toBe(14);
  });

  it("adds events newest first and swaps the app view", () => {
    let state = applyFrame(null, { type: "snapshot", data: snapshot([], [event("01JE0000000000000000000001")]) });
    state = applyFrame(state, { type: "event", data: event("01JE0000000000000000000002") });
    state = applyFrame(state, { type: "event", data: event("01JE0000000000000000000002") });
    expect(state?.events.map((e) => e.internalId.slice(-1))).toEqual(["2", "1"]);
    expect(state?.totals.events).toBe(2);
    const app = { health: { synced: true } as Snapshot["health"], functions: [] };
    expect(applyFrame(state, { type: "app", data: app })?.app).toBe(app);
  });
});

describe("filterRuns", () => {
  const runs = [
    run("01JR0000000000000000000003", { status: "Completed", functionId: "a", startedAt: "2026-01-01T00:59:00.000Z" }),
    run("01JR0000000000000000000002", { status: "Failed", functionId: "b", startedAt: "2026-01-01T00:30:00.000Z" }),
    run("01JR0000000000000000000001", { status: "Queued", functionId: "a", startedAt: undefined, queuedAt: "2025-12-31T00:00:00.000Z" }),
  ];
  const now = Date.parse("2026-01-01T01:00:00.000Z");
  const ids = (f: Parameters<typeof filterRuns>[1]) => filterRuns(runs, f, now).map((r) => r.runId.slice(-1));

  it("filters by status, function and start time (a queued run by when it was queued)", () => {
    expect(ids({ status: "all", functionId: "all", window: "all" })).toEqual(["3", "2", "1"]);
    expect(ids({ status: "Failed", functionId: "all", window: "all" })).toEqual(["2"]);
    expect(ids({ status: "all", functionId: "a", window: "all" })).toEqual(["3", "1"]);
    expect(ids({ status: "all", functionId: "all", window: "15m" })).toEqual(["3"]);
    expect(ids({ status: "all", functionId: "all", window: "1h" })).toEqual(["3", "2"]);
    expect(ids({ status: "all", functionId: "all", window: "24h" })).toEqual(["3", "2"]);
    expect(ids({ status: "Queued", functionId: "b", window: "all" })).toEqual([]);
  });
});
