import { describe, expect, it } from "vitest";
import type { RunView } from "../../types";
import { formatDuration, preview } from "./format";
import { parseRoute, routePath, type Route } from "./route";
import { waterfall } from "./waterfall";

describe("routes", () => {
  it("round-trips every page through its path", () => {
    const routes: Route[] = [
      { page: "runs" },
      { page: "runs", runId: "01JR0000000000000000000001" },
      { page: "events" },
      { page: "events", eventId: "01JE0000000000000000000001" },
      { page: "functions" },
    ];
    for (const route of routes) expect(parseRoute(routePath(route))).toEqual(route);
    expect(parseRoute("/dashboard")).toEqual({ page: "runs" });
    expect(parseRoute("/dashboard/nowhere")).toEqual({ page: "runs" });
  });
});

describe("format", () => {
  it("reads durations at a glance", () => {
    expect(formatDuration(undefined)).toBe("—");
    expect(formatDuration(12.4)).toBe("12 ms");
    expect(formatDuration(1_234)).toBe("1.23 s");
    expect(formatDuration(42_000)).toBe("42.0 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(3_780_000)).toBe("1 h 3 min");
  });

  it("truncates long JSON and keeps all of it to expand", () => {
    expect(preview({ a: 1 })).toEqual({ text: '{\n  "a": 1\n}', truncated: false, full: '{\n  "a": 1\n}' });
    const long = preview({ text: "x".repeat(1_000) }, 50);
    expect(long.truncated).toBe(true);
    expect(long.text).toBe(`{"text":"${"x".repeat(41)}…`);
    expect(long.full).toBe(`{\n  "text": "${"x".repeat(1_000)}"\n}`);
    // Short enough once compact: shown whole on one line, indented when expanded.
    const wide = preview({ a: [1, 2, 3, 4, 5, 6, 7, 8] }, 30);
    expect(wide).toMatchObject({ text: '{"a":[1,2,3,4,5,6,7,8]}', truncated: true });
    expect(preview(undefined).text).toBe("undefined");
  });
});

describe("waterfall", () => {
  const at = (ms: number) => new Date(Date.parse("2026-01-01T00:00:00.000Z") + ms).toISOString();
  const base: RunView = {
    runId: "r",
    functionId: "f",
    status: "Completed",
    eventId: "e",
    event: { internalId: "e", id: "e", name: "t/x", data: {}, ts: 0 },
    queuedAt: at(0),
    startedAt: at(100),
    endedAt: at(1_000),
    timeline: [
      { id: "2", name: "second", op: "StepRun", status: "Completed", attempts: 2, startedAt: at(600), endedAt: at(900) },
      { id: "1", name: "first", op: "StepRun", status: "Completed", attempts: 1, startedAt: at(100), endedAt: at(400) },
    ],
  };

  it("places steps in start order with the idle time before each, from the run's queue time", () => {
    const fall = waterfall(base, Date.now());
    expect(fall.queueDelay).toBe(100);
    expect(fall.span).toBe(1_000);
    expect(fall.bars.map((b) => [b.step.name, b.waitFrom, b.start, b.end])).toEqual([
      ["first", 100, 100, 400],
      ["second", 400, 600, 900],
    ]);
  });

  it("runs an unfinished step up to now", () => {
    const running: RunView = {
      ...base,
      status: "Running",
      endedAt: undefined,
      timeline: [{ id: "1", name: "first", op: "StepRun", status: "Running", attempts: 1, startedAt: at(100) }],
    };
    const fall = waterfall(running, Date.parse(at(2_500)));
    expect(fall.bars[0]).toMatchObject({ start: 100, end: 2_500, ended: false });
    expect(fall.span).toBe(2_500);
  });

  it("has no queue delay for a run still queued", () => {
    expect(
      waterfall({ ...base, status: "Queued", startedAt: undefined, endedAt: undefined, timeline: [] }, Date.parse(at(50))).queueDelay,
    ).toBeUndefined();
  });
});
