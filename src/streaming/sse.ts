import {
  CONTROL_EVENTS,
  type CloseFrame,
  type ConnectedFrame,
  type ErrorFrame,
  type LoggedEvent,
  type ReadyFrame,
  type ResetFrame,
  type SubscriptionReadyFrame,
  type SubscriptionResetFrame,
} from "./protocol";

/**
 * SSE frames as ready-to-write Buffers. The wire format (one data line per frame: JSON never
 * contains a raw newline):
 *
 *   progress  id: <cursor>\nevent: <event.type>\ndata: {"id":<cursor>,"key":<key>,"event":{...}}\n\n
 *             data is the whole LoggedEvent, so the browser validates it with `loggedEventSchema`.
 *   ready     id: <cursor>\nevent: ready\ndata: {"connectionId","cursor"}\n\n
 *   reset     id: <head>\nevent: reset\ndata: {"reason","cursor"}\n\n
 *             ready/reset carry an id so EventSource's own reconnect resumes from that position.
 *   error     event: error\ndata: {"code","message"}\n\n
 *   close     event: close\ndata: {"reason"}\n\n
 *   ping      event: ping\ndata: {"t":<ms>}\n\n   no id line: a ping is not a log position.
 *   retry     retry: <ms>\n\n   once, first; has no data, so browsers dispatch nothing.
 *
 * The multiplexed stream (GET /api/stream) writes the same progress, error, close, ping and retry
 * frames, and its own, without an id line (no single cursor names a position of the connection):
 *   connected  event: connected\ndata: {"connectionId"}\n\n   first, once
 *   ready      event: ready\ndata: {"projectId","cursor","subscriptionId"}\n\n   a subscription's replay is over
 *   reset      event: reset\ndata: {"projectId","reason","cursor","subscriptionId"}\n\n
 *              subscriptionId: the subscribe's own, when it gave one.
 */

export function encodeEvent(logged: LoggedEvent): Buffer {
  const data = JSON.stringify({ id: logged.id, key: logged.key, event: logged.event });
  return Buffer.from(`id: ${logged.id}\nevent: ${logged.event.type}\ndata: ${data}\n\n`);
}

export function encodeReady(frame: ReadyFrame): Buffer {
  return withId(frame.cursor, CONTROL_EVENTS.ready, { connectionId: frame.connectionId, cursor: frame.cursor });
}

export function encodeReset(frame: ResetFrame): Buffer {
  return withId(frame.cursor, CONTROL_EVENTS.reset, { reason: frame.reason, cursor: frame.cursor });
}

export function encodeConnected(frame: ConnectedFrame): Buffer {
  return named(CONTROL_EVENTS.connected, { connectionId: frame.connectionId });
}

export function encodeSubscriptionReady(frame: SubscriptionReadyFrame): Buffer {
  return named(CONTROL_EVENTS.ready, { projectId: frame.projectId, cursor: frame.cursor, subscriptionId: frame.subscriptionId });
}

export function encodeSubscriptionReset(frame: SubscriptionResetFrame): Buffer {
  return named(CONTROL_EVENTS.reset, {
    projectId: frame.projectId,
    reason: frame.reason,
    cursor: frame.cursor,
    subscriptionId: frame.subscriptionId,
  });
}

export function encodeError(frame: ErrorFrame): Buffer {
  return named(CONTROL_EVENTS.error, { code: frame.code, message: frame.message });
}

export function encodeClose(frame: CloseFrame): Buffer {
  return named(CONTROL_EVENTS.close, { reason: frame.reason });
}

export function encodePing(t: number): Buffer {
  return named(CONTROL_EVENTS.ping, { t });
}

export function encodeRetry(ms: number): Buffer {
  return Buffer.from(`retry: ${Math.max(0, Math.floor(ms))}\n\n`);
}

function named(event: string, data: object): Buffer {
  return Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function withId(id: string, event: string, data: object): Buffer {
  return Buffer.from(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export { SseParser, parseSseStream, type SseFrame } from "./sse-parser";
