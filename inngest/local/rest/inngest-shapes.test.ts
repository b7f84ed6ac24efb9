import { describe, expect, it } from "vitest";
import type { ReceivedEvent } from "../executor";
import type { RunView } from "../types";
import { listEventsQuerySchema, selectEvents, toInngestEvent, toInngestRun } from "./inngest-shapes";

const base: RunView = {
  runId: "01JAAAAAAAAAAAAAAAAAAAAAAA",
  functionId: "app-fn",
  status: "Queued",
  eventId: "01JBBBBBBBBBBBBBBBBBBBBBBB",
  event: { internalId: "01JBBBBBBBBBBBBBBBBBBBBBBB", id: "01JBBBBBBBBBBBBBBBBBBBBBBB", name: "t/x", data: {}, ts: 1 },
  queuedAt: "2026-01-01T00:00:00.000Z",
  timeline: [],
};

describe("toInngestRun", () => {
  it("names the fields as Inngest does and reports a queued run as Running, started when it was queued", () => {
    expect(toInngestRun(base)).toEqual({
      run_id: base.runId,
      function_id: "app-fn",
      status: "Running",
      event_id: base.eventId,
      run_started_at: "2026-01-01T00:00:00.000Z",
      ended_at: null,
      output: null,
    });
  });

  it("carries a completed run's output and end", () => {
    const run = toInngestRun({
      ...base,
      status: "Completed",
      startedAt: "2026-01-01T00:00:01.000Z",
      endedAt: "2026-01-01T00:00:02.000Z",
      output: { n: 1 },
    });
    expect(run).toMatchObject({
      status: "Completed",
      run_started_at: "2026-01-01T00:00:01.000Z",
      ended_at: "2026-01-01T00:00:02.000Z",
      output: { n: 1 },
    });
  });

  it("gives a failed run's error as its output, and a cancelled run none", () => {
    const error = { name: "Error", message: "boom" };
    expect(toInngestRun({ ...base, status: "Failed", error, endedAt: "2026-01-01T00:00:02.000Z" }).output).toEqual({ error });
    expect(toInngestRun({ ...base, status: "Cancelled", error, endedAt: "2026-01-01T00:00:02.000Z" })).toMatchObject({
      status: "Cancelled",
      output: null,
    });
  });
});

function received(internalId: string, name: string, receivedAt: string, extra: Record<string, unknown> = {}): ReceivedEvent {
  return { event: { internalId, id: internalId, name, data: { k: 1 }, ts: 5, ...extra }, receivedAt };
}

describe("toInngestEvent", () => {
  it("uses Inngest's names and keeps user and v only when the sender gave them", () => {
    expect(toInngestEvent(received("01JC000000000000000000000A", "t/a", "2026-01-01T00:00:00.000Z"))).toEqual({
      internal_id: "01JC000000000000000000000A",
      received_at: "2026-01-01T00:00:00.000Z",
      id: "01JC000000000000000000000A",
      name: "t/a",
      data: { k: 1 },
      ts: 5,
    });
    expect(
      toInngestEvent(received("01JC000000000000000000000A", "t/a", "2026-01-01T00:00:00.000Z", { user: { id: 1 }, v: "2" })),
    ).toMatchObject({
      user: { id: 1 },
      v: "2",
    });
  });
});

describe("GET /v1/events query", () => {
  // Newest first, as the executor lists them.
  const events = [
    received("01JC0000000000000000000004", "t/b", "2026-01-01T00:00:04.000Z"),
    received("01JC0000000000000000000003", "t/a", "2026-01-01T00:00:03.000Z"),
    received("01JC0000000000000000000002", "t/b", "2026-01-01T00:00:02.000Z"),
    received("01JC0000000000000000000001", "t/a", "2026-01-01T00:00:01.000Z"),
  ];
  const ids = (q: Record<string, string>) => selectEvents(events, listEventsQuerySchema.parse(q)).map((e) => e.event.internalId.slice(-1));

  it("pages newest first by limit and cursor (the last internal_id of the previous page)", () => {
    expect(ids({ limit: "2" })).toEqual(["4", "3"]);
    expect(ids({ limit: "2", cursor: "01JC0000000000000000000003" })).toEqual(["2", "1"]);
    expect(ids({ cursor: "01JC0000000000000000000001" })).toEqual([]);
  });

  it("filters by name and by received time (exclusive bounds)", () => {
    expect(ids({ name: "t/a" })).toEqual(["3", "1"]);
    expect(ids({ received_after: "2026-01-01T00:00:02.000Z" })).toEqual(["4", "3"]);
    expect(ids({ received_before: "2026-01-01T00:00:02.000Z" })).toEqual(["1"]);
    expect(ids({ received_after: "2026-01-01T01:00:01+01:00", name: "t/b" })).toEqual(["4", "2"]);
  });

  it("defaults to 20 and refuses bad values and unknown parameters with readable errors", () => {
    expect(listEventsQuerySchema.parse({}).limit).toBe(20);
    for (const [query, path] of [
      [{ limit: "0" }, "limit"],
      [{ limit: "101" }, "limit"],
      [{ limit: "ten" }, "limit"],
      [{ cursor: "not-a-ulid" }, "cursor"],
      [{ received_after: "yesterday" }, "received_after"],
      [{ page: "2" }, ""],
    ] as const) {
      const parsed = listEventsQuerySchema.safeParse(query);
      expect(parsed.success, JSON.stringify(query)).toBe(false);
      if (!parsed.success && path) expect(parsed.error.issues[0]?.path).toEqual([path]);
    }
  });
});
