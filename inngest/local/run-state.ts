import { z } from "zod";
import type { StepState } from "./app-client";
import type { Slot } from "./concurrency";
import type { RunStatus, SerializedError, StepView, StoredEvent } from "./types";

/** A call to the app: discovery (`stepId=step`) or one planned step by hash. */
export type Call = { kind: "discover"; attempt: number } | { kind: "step"; hash: string; attempt: number };

/** What a timer does when it fires; data, not a closure, so it survives a restart. */
export type TimerAction = { kind: "requeue"; call: Call } | { kind: "sleep-done"; hash: string } | { kind: "wait-timeout"; hash: string };

export interface Timer {
  id: number;
  /** Epoch ms. After a restart a timer already due fires at once. */
  dueAt: number;
  action: TimerAction;
}

/** A `step.waitForEvent` in progress (its timeout is a timer). */
export interface WaitRecord {
  hash: string;
  event: string;
  if?: string;
}

export type RunPhase =
  | { kind: "queued" }
  | { kind: "running"; startedAt: string }
  | {
      kind: "finished";
      status: "Completed" | "Failed" | "Cancelled";
      startedAt?: string;
      endedAt: string;
      output?: unknown;
      error?: SerializedError;
    };

/**
 * Everything a run is, as data: what the store keeps and what a restart resumes from. Calls to the
 * app that were sent and not answered are `inFlight`; nothing else is only in memory.
 */
export interface RunRecord {
  v: 1;
  runId: string;
  functionId: string;
  event: StoredEvent;
  slots: Slot[];
  queuedAt: string;
  status: RunPhase;
  memo: Record<string, StepState>;
  stack: string[];
  /** Hashes planned, running, retrying, sleeping or waiting: re-reported ops are ignored. */
  busy: string[];
  timeline: StepView[];
  ready: Call[];
  discoverWanted: { attempt: number } | null;
  inFlight: Call[];
  disableImmediate: boolean;
  timers: Timer[];
  nextTimerId: number;
  waits: WaitRecord[];
  unreachableStreak: number;
  unknownFunctionRetries: number;
  cancelRequested: boolean;
}

export function newRunRecord(runId: string, functionId: string, event: StoredEvent, slots: Slot[], now: Date): RunRecord {
  return {
    v: 1,
    runId,
    functionId,
    event,
    slots,
    queuedAt: now.toISOString(),
    status: { kind: "queued" },
    memo: {},
    stack: [],
    busy: [],
    timeline: [],
    ready: [],
    discoverWanted: { attempt: 0 },
    inFlight: [],
    disableImmediate: false,
    timers: [],
    nextTimerId: 0,
    waits: [],
    unreachableStreak: 0,
    unknownFunctionRetries: 0,
    cancelRequested: false,
  };
}

export function runStatusOf(phase: RunPhase): RunStatus {
  if (phase.kind === "finished") return phase.status;
  return phase.kind === "queued" ? "Queued" : "Running";
}

export const ENGINE_RESTARTED = "the executor stopped while this call was in flight";

/**
 * A stored run as the executor that restarts takes it over (pure). A call that was in flight may
 * have run (in part) in the app: as Inngest does, it counts as a failed attempt and is sent again
 * with the next attempt number; a step with no attempts left fails. Timers keep their due times.
 */
export function resumeRecord(record: RunRecord, maxAttempts: number, now: Date): RunRecord {
  if (record.status.kind === "finished" || record.inFlight.length === 0) return record;
  const next: RunRecord = { ...record, inFlight: [], ready: [...record.ready], timeline: record.timeline.map((s) => ({ ...s })) };
  const error: SerializedError = { name: "Error", message: ENGINE_RESTARTED };
  for (const call of record.inFlight) {
    const attempt = call.attempt + 1;
    if (call.kind === "discover") {
      next.discoverWanted = { attempt: Math.min(next.discoverWanted?.attempt ?? attempt, attempt) };
      continue;
    }
    const step = next.timeline.find((s) => s.id === call.hash);
    if (attempt >= maxAttempts) {
      next.memo = { ...next.memo, [call.hash]: { error } };
      next.stack = [...next.stack, call.hash];
      next.busy = next.busy.filter((h) => h !== call.hash);
      if (step) Object.assign(step, { status: "Failed", endedAt: now.toISOString(), error });
      next.discoverWanted = { attempt: 0 };
      continue;
    }
    if (step) Object.assign(step, { status: "Retrying", error });
    next.ready.push({ ...call, attempt });
  }
  return next;
}

const serializedErrorSchema = z.looseObject({ name: z.string(), message: z.string(), stack: z.string().optional() });
const callSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("discover"), attempt: z.number().int().min(0) }),
  z.object({ kind: z.literal("step"), hash: z.string().min(1), attempt: z.number().int().min(0) }),
]);
const stepViewSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  op: z.string(),
  status: z.enum(["Planned", "Running", "Retrying", "Sleeping", "Waiting", "Completed", "Failed"]),
  attempts: z.number().int().min(0),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  output: z.unknown().optional(),
  error: serializedErrorSchema.optional(),
});

/** What the store reads back is checked, not trusted: a record from another version fails loudly. */
export const runRecordSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  functionId: z.string().min(1),
  event: z.looseObject({
    internalId: z.string(),
    name: z.string(),
    data: z.record(z.string(), z.unknown()),
    id: z.string(),
    ts: z.number(),
  }),
  slots: z.array(z.object({ key: z.string(), limit: z.number().int().min(1) })),
  queuedAt: z.string(),
  status: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("queued") }),
    z.object({ kind: z.literal("running"), startedAt: z.string() }),
    z.object({
      kind: z.literal("finished"),
      status: z.enum(["Completed", "Failed", "Cancelled"]),
      startedAt: z.string().optional(),
      endedAt: z.string(),
      output: z.unknown().optional(),
      error: serializedErrorSchema.optional(),
    }),
  ]),
  memo: z.record(z.string(), z.union([z.object({ data: z.unknown() }), z.object({ error: serializedErrorSchema })])),
  stack: z.array(z.string()),
  busy: z.array(z.string()),
  timeline: z.array(stepViewSchema),
  ready: z.array(callSchema),
  discoverWanted: z.object({ attempt: z.number().int().min(0) }).nullable(),
  inFlight: z.array(callSchema),
  disableImmediate: z.boolean(),
  timers: z.array(
    z.object({
      id: z.number().int(),
      dueAt: z.number(),
      action: z.discriminatedUnion("kind", [
        z.object({ kind: z.literal("requeue"), call: callSchema }),
        z.object({ kind: z.literal("sleep-done"), hash: z.string() }),
        z.object({ kind: z.literal("wait-timeout"), hash: z.string() }),
      ]),
    }),
  ),
  nextTimerId: z.number().int().min(0),
  waits: z.array(z.object({ hash: z.string(), event: z.string(), if: z.string().optional() })),
  unreachableStreak: z.number().int().min(0),
  unknownFunctionRetries: z.number().int().min(0),
  cancelRequested: z.boolean(),
}) satisfies z.ZodType<RunRecord, unknown>;
