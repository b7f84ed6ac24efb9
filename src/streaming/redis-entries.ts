import type { Logger } from "pino";
import { formatCursor, progressEventSchema, type LoggedEvent } from "./protocol";

/** A stream entry as Redis returns it: id and flat field/value list. */
export type StreamEntry = [id: string, fields: string[]];

export function seqOfId(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

/** An entry written by the append script, back to the wire shape. A corrupt entry is logged and skipped. */
export function entryToLogged(entry: StreamEntry, logger: Logger, where: Record<string, string>): LoggedEvent | null {
  const [id, fields] = entry;
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] ?? "", fields[i + 1] ?? "");
  const key = values.get("key");
  const epoch = values.get("epoch");
  let raw: unknown;
  try {
    raw = JSON.parse(values.get("event") ?? "");
  } catch {
    raw = undefined;
  }
  const event = progressEventSchema.safeParse(raw);
  if (!key || !epoch || !event.success) {
    logger.error({ ...where, streamId: id }, "event log entry is corrupt; skipped");
    return null;
  }
  return { id: formatCursor(epoch, seqOfId(id)), key, event: event.data };
}
