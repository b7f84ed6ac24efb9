import { z } from "zod";
import { idSchema } from "../lib/ids";

/**
 * The stream's event protocol: one zod schema per event kind, one discriminated union.
 * Shared by the Inngest function (publisher), the streaming service and the browser hook.
 */

export const STEP_NAMES = ["load-context", "plan", "generate-openapi", "generate-code", "validate", "save"] as const;
export const stepNameSchema = z.enum(STEP_NAMES);
export type StepName = z.infer<typeof stepNameSchema>;

/**
 * A run's and a step's state: one vocabulary from the database (src/db/schema.ts) through the
 * tRPC snapshots (src/client/run-snapshot.ts) to the run panel. A step has no "cancelled": a step
 * a cancel cut short did not complete, so it is "failed".
 */
export const runStatusSchema = z.enum(["running", "completed", "failed", "cancelled"]);
export type RunStatus = z.infer<typeof runStatusSchema>;
export type FinishedRunStatus = Exclude<RunStatus, "running">;
export const stepStateSchema = z.enum(["pending", "running", "completed", "failed"]);
export type StepState = z.infer<typeof stepStateSchema>;

const runRef = {
  projectId: idSchema,
  runId: z.string().min(1),
  messageId: z.string().min(1),
  /** Publisher's wall clock, ms since epoch. */
  at: z.number().int().nonnegative(),
};

export const runStartedSchema = z.object({
  type: z.literal("run.started"),
  ...runRef,
  steps: z.array(stepNameSchema),
});
export const stepStartedSchema = z.object({
  type: z.literal("step.started"),
  ...runRef,
  step: stepNameSchema,
  attempt: z.number().int().nonnegative(),
});
export const stepProgressSchema = z.object({
  type: z.literal("step.progress"),
  ...runRef,
  step: stepNameSchema,
  /** Human-readable line, e.g. "resource books: 5 fields". */
  message: z.string(),
  /** Partial output of the step, where it has one (e.g. a slice of the document). */
  partial: z.string().optional(),
  /** 0..1 within the step. */
  fraction: z.number().min(0).max(1).optional(),
});
/**
 * Text a step writes as it goes (the model writing the plan), coalesced on the server. `text` is a
 * delta that starts at character `offset` of this attempt's whole text, so a replayed or repeated
 * delta is recognised and dropped, and a retry (a higher attempt) starts a new text that replaces
 * the failed attempt's. See src/streaming/step-text.ts.
 */
export const stepTextSchema = z.object({
  type: z.literal("step.text"),
  ...runRef,
  step: stepNameSchema,
  attempt: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  text: z.string().min(1),
});
export const stepCompletedSchema = z.object({
  type: z.literal("step.completed"),
  ...runRef,
  step: stepNameSchema,
  durationMs: z.number().nonnegative(),
  summary: z.string().optional(),
});
export const runCompletedSchema = z.object({
  type: z.literal("run.completed"),
  ...runRef,
  durationMs: z.number().nonnegative(),
  assistantMessageId: z.string(),
  artifactVersion: z.number().int().positive().nullable(),
});
export const runFailedSchema = z.object({
  type: z.literal("run.failed"),
  ...runRef,
  step: stepNameSchema.optional(),
  reason: z.string(),
});
export const runCancelledSchema = z.object({
  type: z.literal("run.cancelled"),
  ...runRef,
  reason: z.string(),
});

export const progressEventSchema = z.discriminatedUnion("type", [
  runStartedSchema,
  stepStartedSchema,
  stepProgressSchema,
  stepTextSchema,
  stepCompletedSchema,
  runCompletedSchema,
  runFailedSchema,
  runCancelledSchema,
]);
export type ProgressEvent = z.infer<typeof progressEventSchema>;
export type StepTextEvent = z.infer<typeof stepTextSchema>;
export const PROGRESS_EVENT_TYPES = progressEventSchema.options.map((o) => o.shape.type.value);

/**
 * A cursor names a position in one project's log: `<epoch>:<seq>`.
 * The epoch changes whenever the log is new (fresh process with the memory log, a new Redis key),
 * so a cursor from a previous log, or another project's, is detected and answered with `reset`.
 */
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,64}:\d{1,15}$/;
export const cursorSchema = z.string().regex(CURSOR_PATTERN, "malformed cursor");
export type Cursor = z.infer<typeof cursorSchema>;

export function formatCursor(epoch: string, seq: number): Cursor {
  return `${epoch}:${seq}`;
}
export function parseCursor(value: string): { epoch: string; seq: number } | null {
  // cursorSchema's rule without zod's machinery: this runs for every event fanned out and every handshake.
  if (typeof value !== "string" || !CURSOR_PATTERN.test(value)) return null;
  const i = value.lastIndexOf(":");
  return { epoch: value.slice(0, i), seq: Number(value.slice(i + 1)) };
}

/** An event as stored in the log and sent on the wire. `id` is the cursor after this event. */
export const loggedEventSchema = z.object({
  id: cursorSchema,
  /** Stable dedupe key: runId + step + sequence. A retried step re-emits the same key. */
  key: z.string().min(1),
  event: progressEventSchema,
});
export type LoggedEvent = z.infer<typeof loggedEventSchema>;

/** Control frames: not logged, never replayed. */
export const readyFrameSchema = z.object({ connectionId: z.string(), cursor: cursorSchema });
export const resetFrameSchema = z.object({
  reason: z.enum(["retention", "malformed-cursor", "unknown-log", "future-cursor"]),
  cursor: cursorSchema,
});
export const errorFrameSchema = z.object({
  code: z.enum(["NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "BAD_REQUEST", "INTERNAL", "UNAVAILABLE"]),
  message: z.string(),
});
/**
 * Why the server closed a stream: a client too slow for its buffer, the maximum connection time, or
 * the server closing its streams (shutdown, or the operator/test dropping a project's streams). The
 * client resumes from its last id in every case.
 */
export const closeFrameSchema = z.object({
  reason: z.enum(["slow-consumer", "max-duration", "server-shutdown"]),
});
export type ReadyFrame = z.infer<typeof readyFrameSchema>;
export type ResetFrame = z.infer<typeof resetFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type CloseFrame = z.infer<typeof closeFrameSchema>;

/** Keep-alive. A real event (not an SSE comment) because EventSource hides comments from scripts. */
export const pingFrameSchema = z.object({ t: z.number() });

/** SSE `event:` names used on the wire besides the progress event types. */
export const CONTROL_EVENTS = {
  ready: "ready",
  reset: "reset",
  error: "error",
  close: "close",
  ping: "ping",
  connected: "connected",
} as const;

/**
 * The multiplexed stream (`GET /api/stream`): one connection carries many project subscriptions,
 * added and removed by the tRPC mutations `stream.subscribe` / `stream.unsubscribe`.
 *
 * - `connected {connectionId}` is its first frame; the id names the connection in those mutations
 *   and in `message.send`.
 * - Progress events are the very frames of the per-project stream (one serialisation per event
 *   serves both endpoints): `muxEventFrameSchema`, whose `event.projectId` names the project. Their
 *   `id:` line is that project's cursor; the multiplexed stream ignores `Last-Event-ID`, resume is
 *   per subscription (`stream.subscribe` with each project's own cursor).
 * - `ready {projectId, cursor, subscriptionId}` ends a subscription's replay: from here on its events are live.
 * - `reset {projectId, reason, cursor, subscriptionId}` replaces the replay when the cursor cannot be resumed.
 * - `subscriptionId` is the client's name for the subscribe that wrote the frame (echoed when given):
 *   a subscribe whose answer never arrived, or one replaced right after it was made, may still have
 *   its `ready` in flight, and only the id tells it from the current subscribe's.
 * - `error`, `close` and `ping` are the per-project stream's, for the whole connection.
 */
/** A stream connection's id as a request names it (message.send, stream.subscribe): the id of `ready` or `connected`. */
export const connectionIdSchema = z.string().uuid("connectionId must be the id from the stream's ready or connected event");
export const connectedFrameSchema = z.object({ connectionId: connectionIdSchema });
export const muxEventFrameSchema = loggedEventSchema;
/** The client's id for one `stream.subscribe`, unique on its connection. */
export const subscriptionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "subscriptionId must be 1-64 letters, digits, _ or -");
export const subscriptionReadyFrameSchema = z.object({
  projectId: idSchema,
  cursor: cursorSchema,
  subscriptionId: subscriptionIdSchema.optional(),
});
export const subscriptionResetFrameSchema = resetFrameSchema.extend({
  projectId: idSchema,
  subscriptionId: subscriptionIdSchema.optional(),
});
export type ConnectedFrame = z.infer<typeof connectedFrameSchema>;
export type SubscriptionReadyFrame = z.infer<typeof subscriptionReadyFrameSchema>;
export type SubscriptionResetFrame = z.infer<typeof subscriptionResetFrameSchema>;
