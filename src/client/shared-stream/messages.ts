import { z } from "zod";
import { cursorSchema } from "../../streaming/protocol";
import { idSchema } from "../../lib/ids";

/**
 * What a tab and the stream holder (the SharedWorker, the leader tab, or the tab itself) say to each
 * other. A tab opens one *source* per project stream client; the holder answers each source with the
 * frames a per-project EventSource would have received (`ready`, `reset`, progress, `ping`, `error`,
 * `close`), so the tab's stream client runs unchanged on top of a shared connection.
 */

const tabIdSchema = z.string().min(1).max(64);
const sourceIdSchema = z.string().min(1).max(128);

export const tabMessageSchema = z.discriminatedUnion("t", [
  /** The tab joined; `tabId` is unique per page load. */
  z.object({ t: z.literal("hello"), tabId: tabIdSchema }),
  /** A stream client wants `projectId` from after `cursor` (null: from now on). */
  z.object({ t: z.literal("open"), tabId: tabIdSchema, sourceId: sourceIdSchema, projectId: idSchema, cursor: cursorSchema.nullable() }),
  z.object({ t: z.literal("close"), tabId: tabIdSchema, sourceId: sourceIdSchema }),
  /** The tab is going away (pagehide, freeze): drop all its sources. */
  z.object({ t: z.literal("bye"), tabId: tabIdSchema }),
]);
export type TabMessage = z.infer<typeof tabMessageSchema>;

export const holderMessageSchema = z.discriminatedUnion("t", [
  /** One SSE frame for one source: `type` is the SSE event name, `data` its data (none: a transport failure), `id` its id line. */
  z.object({
    t: z.literal("frame"),
    sourceId: sourceIdSchema,
    type: z.string().min(1).max(64),
    data: z.string().optional(),
    id: z.string().optional(),
  }),
]);
export type HolderMessage = z.infer<typeof holderMessageSchema>;

/** Where the holder's messages to one tab go (a MessagePort, a BroadcastChannel addressed to it, a function call). */
export type TabSink = (message: HolderMessage) => void;
