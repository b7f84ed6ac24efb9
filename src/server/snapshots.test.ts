import { describe, expect, it } from "vitest";
import type { RunSnapshot } from "../client/run-snapshot";
import { runEvents } from "../client/testing/events";
import type { LoggedEvent } from "../streaming/protocol";
import { withStepTexts } from "./snapshots";

function run(runId: string, status: RunSnapshot["status"]): RunSnapshot {
  return {
    runId,
    messageId: `msg-${runId}`,
    status,
    startedAt: 1_000,
    finishedAt: status === "running" ? null : 2_000,
    reason: null,
    steps: [{ name: "plan", state: "running", attempt: 1, startedAt: 1_010, completedAt: null, durationMs: null }],
  };
}

function logged(events: ReturnType<ReturnType<typeof runEvents>["text"]>[]): LoggedEvent[] {
  return events.map((event, i) => ({ id: `e1:${i + 1}`, key: `k${i}`, event }));
}

describe("withStepTexts", () => {
  it("gives a running run's steps the text folded from the log, latest attempt only", () => {
    const e = runEvents("p1", "r1");
    const log = logged([e.text("plan", 0, 0, "first "), e.text("plan", 1, 0, "sec"), e.text("plan", 1, 3, "ond")]);
    const [snapshot] = withStepTexts([run("r1", "running")], log);
    expect(snapshot?.steps[0]?.text).toEqual({ attempt: 1, start: 0, text: "second", gap: false });
  });

  it("leaves finished runs and other runs' text alone", () => {
    const a = runEvents("p1", "r1");
    const b = runEvents("p1", "r2");
    const runs = [run("r1", "completed"), run("r2", "running")];
    const result = withStepTexts(runs, logged([a.text("plan", 0, 0, "old"), b.text("generate-code", 0, 0, "x")]));
    expect(result[0]).toBe(runs[0]);
    expect(result[1]?.steps[0]?.text).toBeUndefined();
  });
});
