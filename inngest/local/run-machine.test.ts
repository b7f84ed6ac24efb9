import { describe, expect, it } from "vitest";
import type { CallOutcome } from "./app-client";
import { MAX_UNKNOWN_FUNCTION_RETRIES, transition, type RunEffect, type RunInput } from "./run-machine";
import { newRunRecord, type Call, type RunRecord } from "./run-state";

const NOW = Date.parse("2026-01-01T00:00:10Z");
const ctx = { now: NOW, backoff: { retry: (attempt: number) => 1_000 * (attempt + 1), unreachable: (n: number) => 50 * (n + 1) } };
const STARTED = "2026-01-01T00:00:09Z";

function running(patch: Partial<RunRecord> = {}): RunRecord {
  const base = newRunRecord("r1", "fn", { internalId: "e1", id: "e1", name: "t/ev", data: { k: 1 }, ts: 0 }, [], new Date(NOW - 10_000));
  return { ...base, status: { kind: "running", startedAt: STARTED }, discoverWanted: null, ...patch };
}

function answer(record: RunRecord, call: Call, outcome: CallOutcome, maxAttempts = 3) {
  return transition(record, { kind: "answer", call, outcome, maxAttempts, startedAt: STARTED }, ctx);
}

const kinds = (effects: RunEffect[]) => effects.map((e) => (e.kind === "log" ? `log:${e.msg}` : e.kind));
const discover: Call = { kind: "discover", attempt: 0 };

describe("the run state machine", () => {
  it("a dispatched step call is in flight and counts an attempt; the input record is not changed", () => {
    const before = running({ timeline: [{ id: "h1", name: "one", op: "StepRun", status: "Planned", attempts: 0, startedAt: STARTED }] });
    const frozen = JSON.stringify(before);
    const { record, effects } = transition(before, { kind: "dispatch", call: { kind: "step", hash: "h1", attempt: 0 } }, ctx);
    expect(record.inFlight).toEqual([{ kind: "step", hash: "h1", attempt: 0 }]);
    expect(record.timeline[0]).toMatchObject({ status: "Running", attempts: 1 });
    expect(kinds(effects)).toEqual(["step"]);
    expect(JSON.stringify(before)).toBe(frozen);
  });

  it("a step that ran is memoized and asks for discovery; a planned one is queued once", () => {
    const inFlight = running({ inFlight: [discover] });
    const { record, effects } = answer(inFlight, discover, {
      kind: "ops",
      ops: [{ id: "h1", op: "StepRun", name: "one", data: { v: 1 } }],
    });
    expect(record.inFlight).toEqual([]);
    expect(record.memo).toEqual({ h1: { data: { v: 1 } } });
    expect(record.stack).toEqual(["h1"]);
    expect(record.discoverWanted).toEqual({ attempt: 0 });
    expect(record.timeline[0]).toMatchObject({ name: "one", status: "Completed", attempts: 1, output: { v: 1 } });
    expect(kinds(effects)).toContain("log:step ran");

    const planned: CallOutcome = { kind: "ops", ops: [{ id: "h2", op: "StepPlanned", name: "two" }] };
    const once = answer(record, discover, planned).record;
    expect(once.ready).toEqual([{ kind: "step", hash: "h2", attempt: 0 }]);
    expect(answer(once, discover, planned).record.ready).toHaveLength(1);
  });

  it("a failed call is retried after the backoff, as a timer with its due time; the last attempt fails the run", () => {
    const call: Call = { kind: "step", hash: "h1", attempt: 0 };
    const error = { kind: "error", retriable: true, status: 500, error: { name: "Error", message: "boom" } } as const;
    const { record, effects } = answer(running({ inFlight: [call] }), call, error);
    expect(record.timers).toEqual([{ id: 0, dueAt: NOW + 1_000, action: { kind: "requeue", call: { ...call, attempt: 1 } } }]);
    expect(kinds(effects)).toEqual(["log:retry scheduled", "arm"]);
    // The timer fires: the call is ready again with its next attempt.
    const fired = transition(record, { kind: "timer", id: 0 }, ctx).record;
    expect(fired.ready).toEqual([{ ...call, attempt: 1 }]);
    expect(fired.timers).toEqual([]);

    const last = answer(running({ inFlight: [{ ...call, attempt: 2 }] }), { ...call, attempt: 2 }, error);
    expect(last.record.status).toMatchObject({ kind: "finished", status: "Failed", error: { message: "boom" } });
    expect(kinds(last.effects)).toEqual(["log:run finished", "finished"]);
  });

  it("an unreachable app spends no attempt: the same call again after the unreachable backoff", () => {
    const { record, effects } = answer(running({ unreachableStreak: 2 }), discover, { kind: "unreachable", error: "ECONNREFUSED" });
    expect(record.unreachableStreak).toBe(3);
    expect(record.timers[0]).toEqual({ id: 0, dueAt: NOW + 150, action: { kind: "requeue", call: discover } });
    expect(kinds(effects)).toEqual(["log:app unreachable, call retry scheduled", "unreachable", "arm"]);
  });

  it("step.sleep is a timer; when it fires the sleep is memoized and discovery goes on", () => {
    const { record } = answer(running(), discover, { kind: "ops", ops: [{ id: "s1", op: "Sleep", name: "2s", displayName: "nap" }] });
    expect(record.timers).toEqual([{ id: 0, dueAt: NOW + 2_000, action: { kind: "sleep-done", hash: "s1" } }]);
    expect(record.timeline[0]).toMatchObject({ name: "nap", status: "Sleeping" });
    const woke = transition(record, { kind: "timer", id: 0 }, ctx).record;
    expect(woke.memo.s1).toEqual({ data: null });
    expect(woke.timeline[0]?.status).toBe("Completed");
    expect(woke.discoverWanted).toEqual({ attempt: 0 });
    // A timer already gone (fired or disarmed) changes nothing.
    expect(transition(woke, { kind: "timer", id: 0 }, ctx).record).toEqual(woke);
  });

  it("waitForEvent waits with a timeout; the event settles it, drops the timer and memoizes the event", () => {
    const { record, effects } = answer(running(), discover, {
      kind: "ops",
      ops: [{ id: "w1", op: "WaitForEvent", name: "t/approved", opts: { timeout: "1h", if: "async.data.k == event.data.k" } }],
    });
    expect(kinds(effects)).toEqual(["step", "wait", "arm"]);
    expect(record.waits).toEqual([{ hash: "w1", event: "t/approved", if: "async.data.k == event.data.k" }]);
    const settled = transition(
      record,
      { kind: "event", hash: "w1", event: { internalId: "e2", id: "x", name: "t/approved", data: { k: 1 }, ts: 5 } },
      ctx,
    );
    expect(kinds(settled.effects)).toEqual(["unwait", "disarm", "step"]);
    expect(settled.record.memo.w1).toEqual({ data: { id: "x", name: "t/approved", data: { k: 1 }, ts: 5 } });
    expect(settled.record.timers).toEqual([]);

    const bad = answer(running(), discover, {
      kind: "ops",
      ops: [{ id: "w2", op: "WaitForEvent", name: "t/x", opts: { timeout: "1h", if: "(((" } }],
    });
    expect(bad.record.status).toMatchObject({ kind: "finished", status: "Failed" });
  });

  it("an app that does not know the function is resynced a few times, then the run fails", () => {
    const unknown = { kind: "unknown-function", error: "no such function" } as const;
    expect(kinds(answer(running(), discover, unknown).effects)).toEqual(["resync"]);
    const exhausted = answer(running({ unknownFunctionRetries: MAX_UNKNOWN_FUNCTION_RETRIES }), discover, unknown);
    expect(exhausted.record.status).toMatchObject({ kind: "finished", status: "Failed", error: { message: "no such function" } });
    expect(transition(running(), { kind: "resynced", call: discover }, ctx).record.discoverWanted).toEqual({ attempt: 0 });
  });

  it("finishing drops timers and waits (disarm, unwait); a finished run ignores everything after", () => {
    const busy = running({
      timers: [{ id: 4, dueAt: NOW + 5, action: { kind: "sleep-done", hash: "s" } }],
      waits: [{ hash: "w", event: "t/e" }],
    });
    const cancel: RunInput = { kind: "finish", status: "Cancelled", error: { name: "Error", message: "function cancelled" } };
    const { record, effects } = transition(busy, cancel, ctx);
    expect(kinds(effects)).toEqual(["disarm", "unwait", "log:run finished", "finished"]);
    expect(record).toMatchObject({ timers: [], waits: [], status: { kind: "finished", status: "Cancelled", startedAt: STARTED } });
    const after = answer(record, discover, { kind: "complete", data: 1 });
    expect(after.record).toBe(record);
    expect(after.effects).toEqual([]);
  });

  it("completes with the function's output (a 200, or RunComplete)", () => {
    expect(answer(running(), discover, { kind: "complete", data: { ok: true } }).record.status).toMatchObject({
      kind: "finished",
      status: "Completed",
      output: { ok: true },
    });
    const viaOp = answer(running(), discover, { kind: "ops", ops: [{ id: "c", op: "RunComplete", data: 7 }] });
    expect(viaOp.record.status).toMatchObject({ status: "Completed", output: 7 });
    const unsupported = answer(running(), discover, { kind: "ops", ops: [{ id: "i", op: "InvokeFunction", name: "other" }] });
    expect(unsupported.record.status).toMatchObject({ status: "Failed" });
  });
});
