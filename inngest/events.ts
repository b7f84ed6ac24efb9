import { eventType } from "inngest";
import { z } from "zod";
import { idSchema } from "../src/lib/ids";

/** A user message asks the job to generate (or iterate on) the project's API. */
export const apiIterate = eventType("api/iterate", {
  schema: z.object({
    projectId: idSchema,
    messageId: z.string().min(1),
  }),
});

/** Cancels the run started for `messageId` (matched by the function's cancelOn). */
export const apiCancel = eventType("api/cancel", {
  schema: z.object({
    projectId: idSchema,
    messageId: z.string().min(1),
    runId: z.string().min(1),
  }),
});
