import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import type { RunStatus, StepName, StepState } from "../streaming/protocol";
import type { GeneratedFile } from "../generation/codegen";
import { user } from "./auth-schema";

export * from "./auth-schema";

export const projects = pgTable(
  "projects",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** The only user who may read or drive the project; deleting the user deletes it. */
    ownerId: text("owner_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("projects_owner_created_idx").on(t.ownerId, t.createdAt)],
);

export type MessageRole = "user" | "assistant";
/** Whether a user's message reached the job engine. A stored but undispatched message can be retried. */
export type DispatchState = "pending" | "dispatched" | "failed";

export const messages = pgTable(
  "messages",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    role: text("role").$type<MessageRole>().notNull(),
    content: text("content").notNull(),
    /** For assistant messages: the run that produced it and the artifact version, if any. */
    runId: text("run_id"),
    artifactVersion: integer("artifact_version"),
    dispatch: text("dispatch").$type<DispatchState>(),
    /** The job engine's id of the event that carried this message (its answer to the send), to ask it later whether it still has it. */
    engineEventId: text("engine_event_id"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("messages_project_created_idx").on(t.projectId, t.createdAt),
    // The reconciler's scan for messages the engine accepted: only those, by time.
    index("messages_dispatched_created_idx")
      .on(t.createdAt)
      .where(sql`${t.role} = 'user' and ${t.dispatch} = 'dispatched' and ${t.engineEventId} is not null`),
  ],
);

export interface StoredStep {
  name: StepName;
  state: StepState;
  attempt: number;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
}

export const runs = pgTable(
  "runs",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    messageId: text("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    status: text("status").$type<RunStatus>().notNull(),
    steps: jsonb("steps").$type<StoredStep[]>().notNull(),
    reason: text("reason"),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    // Not unique: a message normally has one run (its event id is the engine's idempotency key), but
    // a rerun from the engine's dashboard is a new run of the same message, with its own reply.
    index("runs_message_idx").on(t.messageId),
    index("runs_project_started_idx").on(t.projectId, t.startedAt),
    // The reconciler's scan: only the few running runs, whatever the table's size.
    index("runs_running_idx")
      .on(t.startedAt)
      .where(sql`${t.status} = 'running'`),
  ],
);

export const artifacts = pgTable(
  "artifacts",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    runId: text("run_id").notNull(),
    messageId: text("message_id").notNull(),
    /** The generator's plan (validated by apiPlanSchema when read back). */
    plan: jsonb("plan").$type<unknown>().notNull(),
    openapi: text("openapi").notNull(),
    files: jsonb("files").$type<GeneratedFile[]>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("artifacts_project_version_idx").on(t.projectId, t.version)],
);

/**
 * The large outputs of a running generation (OpenAPI text, generated files), written by the step
 * that makes them, so the job engine memoizes only small summaries. One row per run, overwritten by
 * a retried step; it becomes the artifact when the run saves, and is dropped when the run finishes.
 */
export const runOutputs = pgTable("run_outputs", {
  runId: text("run_id")
    .primaryKey()
    .references(() => runs.id, { onDelete: "cascade" }),
  openapi: text("openapi"),
  files: jsonb("files").$type<GeneratedFile[]>(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

export type Project = typeof projects.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type Run = typeof runs.$inferSelect;
export type Artifact = typeof artifacts.$inferSelect;
export type RunOutput = typeof runOutputs.$inferSelect;
