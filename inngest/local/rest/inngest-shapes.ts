import { z } from "zod";
import { wireEvent } from "../app-client";
import type { ReceivedEvent } from "../executor";
import type { RunStatus, RunView } from "../types";

/**
 * Inngest's REST API v1 shapes (api.inngest.com/v1, which the dev server also serves), so scripts
 * written against Inngest read the embedded executor unchanged. Field names as Inngest's own
 * types have them (pkg/cqrs: FunctionRun, Event; the docs' "fetch run status and output" example).
 */

/** Inngest reports a run waiting for its first step as running: it has no "Queued" on this API. */
export type InngestRunStatus = "Running" | "Completed" | "Failed" | "Cancelled";

export interface InngestRun {
  run_id: string;
  function_id: string;
  status: InngestRunStatus;
  /** The internal id of the triggering event (what `inngest.send()` returned). */
  event_id: string;
  run_started_at: string;
  ended_at: string | null;
  /** The function's return value; for a failed run, its error (as Inngest stores the final error). */
  output: unknown;
}

export interface InngestEvent {
  internal_id: string;
  received_at: string;
  /** The sender's id (dedupe key), or the internal id when it gave none. */
  id: string;
  name: string;
  data: Record<string, unknown>;
  user?: unknown;
  ts: number;
  v?: unknown;
}

const STATUS: Record<RunStatus, InngestRunStatus> = {
  Queued: "Running",
  Running: "Running",
  Completed: "Completed",
  Failed: "Failed",
  Cancelled: "Cancelled",
};

export function toInngestRun(view: RunView): InngestRun {
  return {
    run_id: view.runId,
    function_id: view.functionId,
    status: STATUS[view.status],
    event_id: view.eventId,
    run_started_at: view.startedAt ?? view.queuedAt,
    ended_at: view.endedAt ?? null,
    output: view.status === "Completed" ? (view.output ?? null) : view.status === "Failed" ? { error: view.error ?? null } : null,
  };
}

export function toInngestEvent({ event, receivedAt }: ReceivedEvent): InngestEvent {
  const { user, v } = wireEvent(event);
  return {
    internal_id: event.internalId,
    received_at: receivedAt,
    id: event.id,
    name: event.name,
    data: event.data,
    ...(user === undefined ? {} : { user }),
    ts: event.ts,
    ...(v === undefined ? {} : { v }),
  };
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const MAX_EVENTS = 100;

export const ulidParam = z.string().regex(ULID, "must be a ULID (26 Crockford base32 characters)");

/** GET /v1/events query: Inngest's parameters; unknown ones are refused rather than ignored. */
export const listEventsQuerySchema = z.strictObject({
  name: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_EVENTS).default(20),
  /** The internal_id of the last event of the previous page: the page continues with older events. */
  cursor: ulidParam.optional(),
  received_after: z.iso.datetime({ offset: true }).optional(),
  received_before: z.iso.datetime({ offset: true }).optional(),
});
export type ListEventsQuery = z.infer<typeof listEventsQuerySchema>;

/** One page of events (given newest first, as the executor lists them), newest first. */
export function selectEvents(events: readonly ReceivedEvent[], query: ListEventsQuery): ReceivedEvent[] {
  const after = query.received_after === undefined ? undefined : Date.parse(query.received_after);
  const before = query.received_before === undefined ? undefined : Date.parse(query.received_before);
  const page: ReceivedEvent[] = [];
  for (const received of events) {
    if (page.length >= query.limit) break;
    const at = Date.parse(received.receivedAt);
    // ULIDs sort by creation time, so "older than the cursor" survives pruning of the cursor's own event.
    if (query.cursor !== undefined && received.event.internalId >= query.cursor) continue;
    if (query.name !== undefined && received.event.name !== query.name) continue;
    if (after !== undefined && at <= after) continue;
    if (before !== undefined && at >= before) continue;
    page.push(received);
  }
  return page;
}
