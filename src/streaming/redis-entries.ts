import type { Logger } from "pino";
import { PROGRESS_EVENT_TYPES, formatCursor, type LoggedEvent, type ProgressEvent } from "./protocol";

/** A stream entry as Redis returns it: id and flat field/value list. */
export type StreamEntry = [id: string, fields: string[]];

export function seqOfId(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

const EVENT_TYPES: ReadonlySet<string> = new Set(PROGRESS_EVENT_TYPES);

/**
 * An entry written by the append script, back to the wire shape. A corrupt entry is logged and skipped.
 *
 * The event is not schema-validated again here: only `StreamingService.publish` appends, after
 * validating it, and the browser validates every frame it receives (src/client/frames.ts). A full
 * parse here would run per entry on every replay and tail read. What is checked is what this
 * process relies on itself: the fields exist, the event is JSON, and its type is a known progress
 * type (it becomes the SSE `event:` line).
 */
export function entryToLogged(entry: StreamEntry, logger: Logger, where: Record<string, string>): LoggedEvent | null {
  const [id, fields] = entry;
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] ?? "", fields[i + 1] ?? "");
  const key = values.get("key");
  const epoch = values.get("epoch");
  const event = parseEvent(values.get("event"));
  if (!key || !epoch || event === null) {
    logger.error({ ...where, streamId: id }, "event log entry is corrupt; skipped");
    return null;
  }
  return { id: formatCursor(epoch, seqOfId(id)), key, event };
}

function parseEvent(json: string | undefined): ProgressEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json ?? "");
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null || !("type" in raw) || typeof raw.type !== "string" || !EVENT_TYPES.has(raw.type))
    return null;
  // Validated when it was published (see above).
  return raw as ProgressEvent;
}
