import type { StepTextEvent } from "./protocol";

/**
 * The text one attempt of a step has written so far, folded from its `step.text` deltas. Pure, and
 * shared by the browser (src/client/run-state.ts) and the server (the page's snapshot folds the
 * log's deltas, so a reload shows the whole text before the stream continues it).
 */
export interface StepText {
  readonly attempt: number;
  /** Character offset of `text` in the attempt's whole text: 0 unless the beginning is no longer retained. */
  readonly start: number;
  readonly text: string;
  /** A delta arrived beyond the end of the text (never expected: the log is ordered and complete). */
  readonly gap: boolean;
}

export type StepTextDelta = Pick<StepTextEvent, "attempt" | "offset" | "text">;

/**
 * Applies one delta. A later attempt replaces the text (a retry starts over); an earlier attempt's
 * delta is dropped; within an attempt, what the text already holds is dropped, so a delta replayed
 * on top of a snapshot, or received twice, changes nothing. Returns `current` itself when nothing changed.
 */
export function appendStepText(current: StepText | null, delta: StepTextDelta): StepText | null {
  if (current === null || delta.attempt > current.attempt) {
    return { attempt: delta.attempt, start: delta.offset, text: delta.text, gap: false };
  }
  if (delta.attempt < current.attempt) return current;
  const end = current.start + current.text.length;
  const deltaEnd = delta.offset + delta.text.length;
  if (deltaEnd <= end) return current;
  if (delta.offset > end) return { ...current, text: current.text + delta.text, gap: true };
  return { ...current, text: current.text + delta.text.slice(end - delta.offset) };
}

/** The texts of a run's steps, folded from its events in log order: what a snapshot carries. */
export function foldStepTexts(events: Iterable<StepTextEvent>): Map<StepTextEvent["step"], StepText> {
  const texts = new Map<StepTextEvent["step"], StepText>();
  for (const event of events) {
    const next = appendStepText(texts.get(event.step) ?? null, event);
    if (next) texts.set(event.step, next);
  }
  return texts;
}
