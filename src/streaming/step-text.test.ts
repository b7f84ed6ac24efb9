import { describe, expect, it } from "vitest";
import { appendStepText, foldStepTexts, type StepText } from "./step-text";
import type { StepTextEvent } from "./protocol";

const delta = (attempt: number, offset: number, text: string) => ({ attempt, offset, text });

function fold(...deltas: ReturnType<typeof delta>[]): StepText | null {
  return deltas.reduce<StepText | null>(appendStepText, null);
}

describe("appendStepText", () => {
  it("appends deltas of one attempt in order", () => {
    expect(fold(delta(0, 0, '{"ti'), delta(0, 4, 'tle"'), delta(0, 8, ": 1}"))).toEqual({
      attempt: 0,
      start: 0,
      text: '{"title": 1}',
      gap: false,
    });
  });

  it("drops a delta it already holds and returns the same object", () => {
    const text = fold(delta(0, 0, "abc"), delta(0, 3, "def"));
    expect(appendStepText(text, delta(0, 3, "def"))).toBe(text);
    expect(appendStepText(text, delta(0, 0, "abc"))).toBe(text);
  });

  it("keeps only the new part of a delta that overlaps the end", () => {
    expect(fold(delta(0, 0, "abcd"), delta(0, 2, "cdef"))?.text).toBe("abcdef");
  });

  it("a later attempt replaces the text; an earlier attempt's late delta is dropped", () => {
    const retried = fold(delta(0, 0, "first try, cut"), delta(1, 0, "second"));
    expect(retried).toEqual({ attempt: 1, start: 0, text: "second", gap: false });
    expect(appendStepText(retried, delta(0, 14, " more of the first"))).toBe(retried);
  });

  it("marks a gap instead of pretending the text is whole", () => {
    expect(fold(delta(0, 0, "abc"), delta(0, 10, "xyz"))).toEqual({ attempt: 0, start: 0, text: "abcxyz", gap: true });
  });

  it("a text whose beginning is gone says where it starts", () => {
    expect(fold(delta(2, 40, "tail"))).toEqual({ attempt: 2, start: 40, text: "tail", gap: false });
  });
});

describe("foldStepTexts", () => {
  it("folds each step's deltas separately", () => {
    const base = { projectId: "p1", runId: "r1", messageId: "m1", at: 1, type: "step.text" as const };
    const events: StepTextEvent[] = [
      { ...base, step: "plan", attempt: 0, offset: 0, text: "ab" },
      { ...base, step: "generate-code", attempt: 0, offset: 0, text: "x" },
      { ...base, step: "plan", attempt: 0, offset: 2, text: "cd" },
      { ...base, step: "plan", attempt: 0, offset: 2, text: "cd" },
    ];
    const texts = foldStepTexts(events);
    expect(texts.get("plan")?.text).toBe("abcd");
    expect(texts.get("generate-code")?.text).toBe("x");
  });
});
