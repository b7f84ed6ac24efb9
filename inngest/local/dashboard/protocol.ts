import type { HealthView, ReceivedEvent } from "../executor";
import type { FunctionDef, RunView } from "../types";

/**
 * What the dashboard's stream (GET /dashboard/api/stream) sends: a `snapshot` first, then changes.
 * The snapshot is taken in the same tick the listeners are attached, so no change falls between
 * them; a reconnect gets a fresh snapshot. Types only: the browser bundle imports this file too.
 */
export interface FunctionView {
  id: string;
  name: string;
  appId: string;
  triggers: { event: string; expression?: string }[];
  concurrency: { limit: number; scope: string; key?: string }[];
  retries: number;
  idempotency?: string;
  cancelOn: { event: string; if?: string; timeoutMs?: number }[];
}

export interface EventView {
  internalId: string;
  id: string;
  name: string;
  data: Record<string, unknown>;
  ts: number;
  receivedAt: string;
  /** The whole event as the functions got it (user, v and any extra fields the sender gave). */
  payload: Record<string, unknown>;
}

export interface AppView {
  health: HealthView;
  functions: FunctionView[];
}

export interface Snapshot extends AppView {
  auth: "signing-key" | "none";
  runs: RunView[];
  events: EventView[];
  /** How many runs and events the engine holds (the snapshot carries the newest). */
  totals: { runs: number; events: number };
}

export type StreamFrame =
  | { type: "snapshot"; data: Snapshot }
  | { type: "run"; data: RunView }
  | { type: "event"; data: EventView }
  | { type: "app"; data: AppView };

export function toFunctionView(fn: FunctionDef): FunctionView {
  return {
    id: fn.id,
    name: fn.name,
    appId: fn.appId,
    triggers: fn.triggers.map((t) => (t.expression ? { event: t.event, expression: t.expression.source } : { event: t.event })),
    concurrency: fn.concurrency.map((c) =>
      c.key ? { limit: c.limit, scope: c.scope, key: c.key.source } : { limit: c.limit, scope: c.scope },
    ),
    retries: fn.maxAttempts - 1,
    ...(fn.idempotency ? { idempotency: fn.idempotency.source } : {}),
    cancelOn: fn.cancel.map((c) => ({
      event: c.event,
      ...(c.if ? { if: c.if.source } : {}),
      ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
    })),
  };
}

export function toEventView({ event, receivedAt }: ReceivedEvent): EventView {
  const { internalId, ...payload } = event;
  return { internalId, id: event.id, name: event.name, data: event.data, ts: event.ts, receivedAt, payload };
}
