import { z } from "zod";
import { runStatusSchema, stepNameSchema, stepStateSchema } from "../streaming/protocol";

/**
 * The run panel's state as the server reports it from the database (a tRPC query), used on page
 * load and after a `reset`. Times are ms since epoch, the same clock as the events' `at`.
 */

const epochMs = z.number().int().nonnegative();

/** A step's text so far (src/streaming/step-text.ts), folded by the server from the log for a running run. */
export const stepTextSnapshotSchema = z.object({
  attempt: z.number().int().nonnegative(),
  start: z.number().int().nonnegative(),
  text: z.string(),
  gap: z.boolean(),
});

export const stepSnapshotSchema = z.object({
  name: stepNameSchema,
  state: stepStateSchema,
  attempt: z.number().int().nonnegative(),
  startedAt: epochMs.nullable(),
  completedAt: epochMs.nullable(),
  durationMs: z.number().nonnegative().nullable(),
  text: stepTextSnapshotSchema.optional(),
});
export type StepSnapshot = z.infer<typeof stepSnapshotSchema>;

export const runSnapshotSchema = z.object({
  runId: z.string().min(1),
  messageId: z.string().min(1),
  status: runStatusSchema,
  startedAt: epochMs,
  finishedAt: epochMs.nullable(),
  reason: z.string().nullable(),
  /** May omit steps that never started; the client fills them in as pending. */
  steps: z.array(stepSnapshotSchema),
});
export type RunSnapshot = z.infer<typeof runSnapshotSchema>;

export const runSnapshotListSchema = z.array(runSnapshotSchema);
