import { describe, expect, it } from "vitest";
import { STEP_NAMES, type ProgressEvent } from "../streaming/protocol";
import { runSnapshotSchema, type RunSnapshot } from "./run-snapshot";
import { applyEvent, emptyRunState, fromSnapshot, listRuns, type RunState, type RunView } from "./run-state";
import { runEvents } from "./testing/events";

const fold = (events: ProgressEvent[], state: RunState = emptyRunState) => events.reduce(applyEvent, state);

function only(state: RunState): RunView {
  const runs = listRuns(state);
  expect(runs).toHaveLength(1);
  const run = runs[0];
  if (run === undefined) throw new Error("no run");
  return run;
}

function step(run: RunView, name: string) {
  const s = run.steps.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no step ${name}`);
  return s;
}

function snapshot(overrides: Partial<RunSnapshot> = {}): RunSnapshot {
  return {
    runId: "r1",
    messageId: "msg-r1",
    status: "running",
    startedAt: 1_000,
    finishedAt: null,
    reason: null,
    steps: [],
    ...overrides,
  };
}

describe("run state", () => {
  it("folds a full run into a completed run with every step completed", () => {
    const run = only(fold(runEvents("p1", "r1").fullRun()));
    expect(run.status).toBe("completed");
    expect(run.messageId).toBe("msg-r1");
    expect(run.assistantMessageId).toBe("assistant-r1");
    expect(run.artifactVersion).toBe(1);
    expect(run.durationMs).toBe(100);
    expect(run.finishedAt).not.toBeNull();
    expect(run.progress).toBe(1);
    expect(run.steps.map((s) => s.name)).toEqual([...STEP_NAMES]);
    for (const s of run.steps) {
      expect(s.state).toBe("completed");
      expect(s.durationMs).toBe(5);
      expect(s.message).toBe(`${s.name} halfway`);
      expect(s.summary).toBe(`${s.name} done`);
      expect(s.fraction).toBe(1);
    }
  });

  it("is idempotent: duplicates change nothing and return the same state object", () => {
    const events = runEvents("p1", "r1").fullRun();
    const once = fold(events);
    const twice = fold(events.flatMap((e) => [e, e]));
    expect(twice).toEqual(once);
    expect(applyEvent(once, events[3] as ProgressEvent)).toBe(once);
    // Replaying the whole run again on top of its end leaves it untouched.
    expect(fold(events, once)).toBe(once);
  });

  it("never regresses a snapshot that is ahead of the replay", () => {
    const ev = runEvents("p1", "r1");
    const ahead = fromSnapshot([
      snapshot({
        steps: [
          { name: "load-context", state: "completed", attempt: 0, startedAt: 1_010, completedAt: 1_020, durationMs: 10 },
          { name: "plan", state: "completed", attempt: 0, startedAt: 1_020, completedAt: 1_030, durationMs: 10 },
          { name: "generate-openapi", state: "running", attempt: 0, startedAt: 1_030, completedAt: null, durationMs: null },
        ],
      }),
    ]);
    const replayed = fold(
      [
        ev.started(),
        ev.stepStarted("load-context"),
        ev.stepStarted("plan"),
        ev.progress("plan", "late line", { fraction: 0.2 }),
        ev.stepStarted("generate-openapi"),
      ],
      ahead,
    );
    const run = only(replayed);
    expect(step(run, "load-context").state).toBe("completed");
    expect(step(run, "plan").state).toBe("completed");
    expect(step(run, "plan").message).toBeNull();
    expect(step(run, "generate-openapi").state).toBe("running");
    expect(step(run, "generate-openapi").startedAt).toBe(1_030);
    expect(run.progress).toBeCloseTo(2 / STEP_NAMES.length);
  });

  it("keeps a finished snapshot finished and fills in what only the event knows", () => {
    const ev = runEvents("p1", "r1");
    const done = fromSnapshot([snapshot({ status: "completed", finishedAt: 2_000 })]);
    const run = only(fold([ev.stepStarted("plan"), ev.progress("plan", "x"), ev.completed()], done));
    expect(run.status).toBe("completed");
    expect(run.finishedAt).toBe(2_000);
    expect(run.durationMs).toBe(1_000);
    expect(run.assistantMessageId).toBe("assistant-r1");
    expect(step(run, "plan").state).toBe("pending");
    expect(run.progress).toBe(1);
  });

  it("marks a failed run and its failing step, and ignores later step events", () => {
    const ev = runEvents("p1", "r1");
    const state = fold([
      ev.started(),
      ev.stepStarted("load-context"),
      ev.stepCompleted("load-context"),
      ev.stepStarted("plan"),
      ev.failed("model unavailable", "plan"),
      ev.progress("plan", "too late"),
      ev.stepCompleted("plan"),
      ev.completed(),
    ]);
    const run = only(state);
    expect(run.status).toBe("failed");
    expect(run.reason).toBe("model unavailable");
    expect(run.finishedAt).not.toBeNull();
    expect(run.durationMs).toBe((run.finishedAt ?? 0) - run.startedAt);
    expect(step(run, "load-context").state).toBe("completed");
    expect(step(run, "plan").state).toBe("failed");
    expect(step(run, "plan").message).toBeNull();
    expect(step(run, "generate-openapi").state).toBe("pending");
    expect(run.progress).toBeCloseTo(1 / STEP_NAMES.length);
  });

  it("fails the running step when run.failed names none", () => {
    const ev = runEvents("p1", "r1");
    const run = only(fold([ev.started(), ev.stepStarted("load-context"), ev.failed("boom")]));
    expect(step(run, "load-context").state).toBe("failed");
  });

  it("marks a cancelled run and stops its running step", () => {
    const ev = runEvents("p1", "r1");
    const run = only(
      fold([
        ev.started(),
        ev.stepStarted("load-context"),
        ev.progress("load-context", "reading"),
        ev.cancelled("user cancelled"),
        ev.failed("late"),
      ]),
    );
    expect(run.status).toBe("cancelled");
    expect(run.reason).toBe("user cancelled");
    expect(step(run, "load-context").state).toBe("failed");
    expect(run.steps.some((s) => s.state === "running")).toBe(false);
  });

  it("computes overall progress from completed steps plus the running step's fraction", () => {
    const ev = runEvents("p1", "r1");
    const state = fold([
      ev.started(),
      ev.stepStarted("load-context"),
      ev.stepCompleted("load-context"),
      ev.stepStarted("plan"),
      ev.stepCompleted("plan"),
      ev.stepStarted("generate-openapi"),
      ev.progress("generate-openapi", "paths", { fraction: 0.5, partial: "openapi: 3.1.0" }),
    ]);
    const run = only(state);
    expect(run.progress).toBeCloseTo(2.5 / STEP_NAMES.length);
    expect(step(run, "generate-openapi").partial).toBe("openapi: 3.1.0");
    // A progress line without partial or fraction keeps the previous ones.
    const later = only(applyEvent(state, ev.progress("generate-openapi", "schemas")));
    expect(step(later, "generate-openapi").message).toBe("schemas");
    expect(step(later, "generate-openapi").partial).toBe("openapi: 3.1.0");
    expect(later.progress).toBeCloseTo(2.5 / STEP_NAMES.length);
  });

  it("starts a retried step over, and ignores a replayed older attempt", () => {
    const ev = runEvents("p1", "r1");
    const first = fold([ev.started(), ev.stepStarted("plan", 0), ev.progress("plan", "half", { fraction: 0.5 })]);
    const retried = only(fold([ev.stepStarted("plan", 1), ev.stepStarted("plan", 0)], first));
    expect(step(retried, "plan").attempt).toBe(1);
    expect(step(retried, "plan").fraction).toBeNull();
    expect(step(retried, "plan").message).toBeNull();
  });

  it("keeps runs in start order and shows runs whose run.started it never saw", () => {
    const a = runEvents("p1", "a", "m-a", 5_000);
    const b = runEvents("p1", "b", "m-b", 1_000);
    const state = fold([a.started(), b.stepStarted("plan")]);
    expect(listRuns(state).map((r) => r.runId)).toEqual(["b", "a"]);
    expect(state.runs.get("b")?.status).toBe("running");
    expect(step(state.runs.get("b") as RunView, "plan").state).toBe("running");
  });

  it("builds state from a snapshot: start order, every step, missing ones pending", () => {
    const state = fromSnapshot([
      snapshot({ runId: "late", startedAt: 9_000 }),
      snapshot({
        runId: "early",
        startedAt: 1_000,
        status: "failed",
        finishedAt: 1_500,
        reason: "bad plan",
        steps: [{ name: "plan", state: "failed", attempt: 2, startedAt: 1_100, completedAt: null, durationMs: null }],
      }),
    ]);
    expect(listRuns(state).map((r) => r.runId)).toEqual(["early", "late"]);
    const early = state.runs.get("early") as RunView;
    expect(early.steps).toHaveLength(STEP_NAMES.length);
    expect(step(early, "plan")).toMatchObject({ state: "failed", attempt: 2 });
    expect(step(early, "validate").state).toBe("pending");
    expect(early.durationMs).toBe(500);
    expect(early.reason).toBe("bad plan");
  });

  it("validates snapshots with the shared zod schema", () => {
    expect(runSnapshotSchema.safeParse(snapshot()).success).toBe(true);
    expect(runSnapshotSchema.safeParse({ ...snapshot(), status: "paused" }).success).toBe(false);
    expect(
      runSnapshotSchema.safeParse({
        ...snapshot(),
        steps: [{ name: "nope", state: "pending", attempt: 0, startedAt: null, completedAt: null, durationMs: null }],
      }).success,
    ).toBe(false);
  });

  describe("a step's text (step.text)", () => {
    it("grows from deltas; a repeated or replayed delta changes nothing", () => {
      const e = runEvents("p1", "r1");
      const events = [e.started(), e.stepStarted("plan"), e.text("plan", 0, 0, '{"title":'), e.text("plan", 0, 9, ' "Todo"}')];
      const state = fold(events);
      expect(step(only(state), "plan").text).toEqual({ attempt: 0, start: 0, text: '{"title": "Todo"}', gap: false });
      expect(fold(events.slice(2), state)).toBe(state);
    });

    it("a retry keeps the failed attempt's text until its own arrives, then replaces it", () => {
      const e = runEvents("p1", "r1");
      const first = fold([e.started(), e.stepStarted("plan"), e.text("plan", 0, 0, "cut mid-")]);
      const retried = fold([e.stepStarted("plan", 1)], first);
      expect(step(only(retried), "plan").text?.text).toBe("cut mid-");
      const replaced = fold([e.text("plan", 1, 0, "whole"), e.text("plan", 0, 8, "late")], retried);
      expect(step(only(replaced), "plan").text).toEqual({ attempt: 1, start: 0, text: "whole", gap: false });
    });

    it("continues a snapshot's text from the log without repeating what the snapshot holds", () => {
      const planStep = {
        name: "plan" as const,
        state: "running" as const,
        attempt: 0,
        startedAt: 1_010,
        completedAt: null,
        durationMs: null,
      };
      const state = fromSnapshot([snapshot({ steps: [{ ...planStep, text: { attempt: 0, start: 0, text: "abcdef", gap: false } }] })]);
      const e = runEvents("p1", "r1");
      const next = fold([e.text("plan", 0, 3, "def"), e.text("plan", 0, 6, "gh")], state);
      expect(step(only(next), "plan").text?.text).toBe("abcdefgh");
    });

    it("shows no text published after the run ended", () => {
      const e = runEvents("p1", "r1");
      const state = fold([e.started(), e.stepStarted("plan"), e.text("plan", 0, 0, "ab"), e.cancelled("Cancelled by the user")]);
      expect(fold([e.text("plan", 0, 2, "cd")], state)).toBe(state);
    });
  });
});
