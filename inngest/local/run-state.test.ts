import { describe, expect, it } from "vitest";
import { ENGINE_RESTARTED, newRunRecord, resumeRecord, runRecordSchema, runStatusOf, type RunRecord } from "./run-state";

const NOW = new Date("2026-01-01T00:10:00Z");

function record(patch: Partial<RunRecord>): RunRecord {
  const base = newRunRecord(
    "r1",
    "fn",
    { internalId: "e1", id: "e1", name: "t/ev", data: {}, ts: 0 },
    [],
    new Date("2026-01-01T00:00:00Z"),
  );
  return { ...base, status: { kind: "running", startedAt: "2026-01-01T00:00:01Z" }, discoverWanted: null, ...patch };
}

const step = (id: string, attempts: number) =>
  ({ id, name: id, op: "StepRun", status: "Running", attempts, startedAt: "2026-01-01T00:00:02Z" }) as const;

describe("resumeRecord", () => {
  it("sends a step that was in flight again with its next attempt (the lost attempt counts)", () => {
    const before = record({ busy: ["h1"], inFlight: [{ kind: "step", hash: "h1", attempt: 0 }], timeline: [step("h1", 1)] });
    const after = resumeRecord(before, 3, NOW);
    expect(after.inFlight).toEqual([]);
    expect(after.ready).toEqual([{ kind: "step", hash: "h1", attempt: 1 }]);
    expect(after.timeline[0]).toMatchObject({ status: "Retrying", attempts: 1, error: { message: ENGINE_RESTARTED } });
    expect(after.busy).toEqual(["h1"]);
    // Pure: the stored record is not changed.
    expect(before.inFlight).toHaveLength(1);
    expect(before.timeline[0]?.status).toBe("Running");
  });

  it("fails a step whose lost attempt was its last, and lets the SDK decide (discovery with the error memoized)", () => {
    const after = resumeRecord(
      record({ busy: ["h1"], inFlight: [{ kind: "step", hash: "h1", attempt: 2 }], timeline: [step("h1", 3)], stack: ["h0"] }),
      3,
      NOW,
    );
    expect(after.ready).toEqual([]);
    expect(after.memo.h1).toEqual({ error: { name: "Error", message: ENGINE_RESTARTED } });
    expect(after.stack).toEqual(["h0", "h1"]);
    expect(after.busy).toEqual([]);
    expect(after.discoverWanted).toEqual({ attempt: 0 });
    expect(after.timeline[0]).toMatchObject({ status: "Failed", endedAt: NOW.toISOString() });
  });

  it("asks for discovery again with the next attempt when a discovery call was in flight", () => {
    expect(resumeRecord(record({ inFlight: [{ kind: "discover", attempt: 1 }] }), 3, NOW).discoverWanted).toEqual({ attempt: 2 });
    // A discovery already wanted at a lower attempt wins (as requestDiscovery does).
    expect(
      resumeRecord(record({ discoverWanted: { attempt: 0 }, inFlight: [{ kind: "discover", attempt: 1 }] }), 3, NOW).discoverWanted,
    ).toEqual({ attempt: 0 });
  });

  it("keeps timers (retry backoff, sleeps) and waits with their due times, and leaves finished or idle runs as they are", () => {
    const idle = record({
      timers: [{ id: 3, dueAt: 123, action: { kind: "requeue", call: { kind: "step", hash: "h1", attempt: 1 } } }],
      waits: [{ hash: "w", event: "t/other" }],
    });
    expect(resumeRecord(idle, 3, NOW)).toBe(idle);
    const finished = record({
      status: { kind: "finished", status: "Completed", endedAt: "x" },
      inFlight: [{ kind: "step", hash: "h1", attempt: 0 }],
    });
    expect(resumeRecord(finished, 3, NOW)).toBe(finished);
    const withTimer = resumeRecord({ ...idle, inFlight: [{ kind: "discover", attempt: 0 }] }, 3, NOW);
    expect(withTimer.timers).toEqual(idle.timers);
    expect(withTimer.waits).toEqual(idle.waits);
  });
});

describe("run records", () => {
  it("map to the run statuses of /v1/runs", () => {
    expect(runStatusOf({ kind: "queued" })).toBe("Queued");
    expect(runStatusOf({ kind: "running", startedAt: "t" })).toBe("Running");
    expect(runStatusOf({ kind: "finished", status: "Cancelled", endedAt: "t" })).toBe("Cancelled");
  });

  it("round-trip through JSON and the schema the store reads them with; anything else is refused", () => {
    const r = record({ inFlight: [{ kind: "step", hash: "h1", attempt: 0 }], timeline: [step("h1", 1)] });
    expect(runRecordSchema.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
    expect(runRecordSchema.safeParse({ ...r, status: { kind: "sleeping" } }).success).toBe(false);
    expect(runRecordSchema.safeParse({ ...r, inFlight: [{ kind: "step", attempt: 0 }] }).success).toBe(false);
  });
});
