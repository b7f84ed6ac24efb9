import { z } from "zod";
import { cursorSchema, loggedEventSchema, type LoggedEvent } from "../streaming/protocol";
import type { MessageEventLike } from "./event-source";

/** Validation of wire frames. Never throws: a bad frame becomes an error string the client records. */

export type FrameResult<T> = { ok: true; value: T } | { ok: false; error: string };

const progressDataSchema = loggedEventSchema.pick({ key: true, event: true });

/** Parses a frame's JSON `data` against a schema. */
export function parseFrameData<T>(name: string, schema: z.ZodType<T>, event: MessageEventLike): FrameResult<T> {
  if (typeof event.data !== "string") return { ok: false, error: `${name} frame without data` };
  let json: unknown;
  try {
    json = JSON.parse(event.data);
  } catch {
    return { ok: false, error: `${name} frame is not JSON: ${clip(event.data)}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, error: `${name} frame is invalid: ${clip(z.prettifyError(parsed.error))}` };
  return { ok: true, value: parsed.data };
}

/** A progress frame: id from the SSE `id:` line, `{key, event}` from data; the SSE name must match the event type. */
export function parseProgressFrame(type: string, event: MessageEventLike): FrameResult<LoggedEvent> {
  const id = cursorSchema.safeParse(event.lastEventId);
  if (!id.success) return { ok: false, error: `${type} frame has no valid id: ${clip(String(event.lastEventId))}` };
  const data = parseFrameData(type, progressDataSchema, event);
  if (!data.ok) return data;
  if (data.value.event.type !== type) return { ok: false, error: `${type} frame carries a ${data.value.event.type} event` };
  return { ok: true, value: { id: id.data, ...data.value } };
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
