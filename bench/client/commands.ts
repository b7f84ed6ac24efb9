import { z } from "zod";
import type { BroadcastResult } from "./broadcast";
import type { E2eResult } from "./e2e";
import type { OpenResult, SubscribeResult } from "./pool";
import type { SteadyResult } from "./steady";
import type { TokensResult, TokensTextResult } from "./tokens";

/** The load client's IPC protocol: the orchestrator (bench/run.ts) sends one command at a time. */
const target = z.object({ host: z.string(), port: z.number().int().positive() });
const group = z.string().min(1);
/** A project and the session cookie of its owner ("" for the baseline, which has no accounts). */
const projectRef = z.object({ id: z.string(), cookie: z.string() });
export type ProjectRef = z.infer<typeof projectRef>;

export const commandSchemas = {
  open: z.object({
    group,
    target,
    projects: z.array(projectRef).min(1),
    count: z.number().int().nonnegative(),
    concurrency: z.number().int().positive(),
    /** project: GET /api/projects/:id/events; mux: GET /api/stream + stream.subscribe for the project. */
    kind: z.enum(["project", "mux"]).default("project"),
  }),
  /** Mux: `perConnection` more subscriptions on every connection of the group, to projects of the same account. */
  subscribe: z.object({
    group,
    projects: z.array(projectRef).min(1),
    perConnection: z.number().int().positive(),
    concurrency: z.number().int().positive(),
  }),
  close: z.object({ group }),
  broadcast: z.object({
    group,
    target,
    projectId: z.string(),
    tag: z.string(),
    payloadBytes: z.number().int().nonnegative(),
    deadlineMs: z.number().positive(),
  }),
  steady: z.object({
    group,
    target,
    projects: z.array(z.string()).min(1),
    ratePerSec: z.number().positive(),
    durationMs: z.number().positive(),
    payloadBytes: z.number().int().nonnegative(),
    tag: z.string(),
    drainDeadlineMs: z.number().positive(),
  }),
  e2e: z.object({
    baseUrl: z.string(),
    target,
    /** Session cookies, one account per `sendsPerAccount` sends (the app limits messages per user and minute). */
    accounts: z.array(z.object({ cookie: z.string() })).min(1),
    sendsPerAccount: z.number().int().positive(),
    sends: z.number().int().positive(),
    content: z.string(),
    awaitRun: z.boolean(),
    deadlineMs: z.number().positive(),
  }),
  tokens: z.object({
    baseUrl: z.string(),
    target,
    /** One generation per project: its owner's cookie and the message that starts it. */
    projects: z.array(z.object({ id: z.string(), cookie: z.string(), content: z.string() })).min(1),
    connectionsPerProject: z.number().int().positive(),
    concurrency: z.number().int().positive(),
    /** Length of the model's whole answer: the command resolves when every connection has that much text. */
    expectedChars: z.number().int().positive(),
    /** Bounds each half (text complete; runs ended) on failure. */
    deadlineMs: z.number().positive(),
  }),
  "tokens-finish": z.object({}),
};

export interface CloseResult {
  closed: number;
  /** Connections the server (or the network) had already closed: a correctness failure mid-phase. */
  droppedBeforeClose: number;
}

export interface CommandResults {
  open: OpenResult;
  subscribe: SubscribeResult;
  close: CloseResult;
  broadcast: BroadcastResult;
  steady: SteadyResult;
  e2e: E2eResult;
  tokens: TokensTextResult;
  "tokens-finish": TokensResult;
}

export type CommandName = keyof typeof commandSchemas;
export type CommandArgs<K extends CommandName> = z.input<(typeof commandSchemas)[K]>;

export interface CommandRequest {
  id: number;
  cmd: CommandName;
  args: unknown;
}

export type CommandReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
