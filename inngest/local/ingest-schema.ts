import { z } from "zod";

/** One event as `inngest.send()` posts it. Extra fields (user, v, meta) are kept. */
export const ingestEventSchema = z.looseObject({
  name: z.string().min(1),
  data: z.record(z.string(), z.unknown()).optional(),
  /** Dedupe id: a second event with the same id within 24 h starts no run. */
  id: z.string().min(1).optional(),
  ts: z.number().int().nonnegative().optional(),
});

export type IngestEvent = z.infer<typeof ingestEventSchema>;

export type ParsedIngest = { ok: true; events: IngestEvent[] } | { ok: false; error: string };

function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))].join("");
      return `${path || "body"}: ${issue.message}`;
    })
    .join("; ");
}

/** A POST /e/:key body: one event or an array of them. */
export function parseIngestBody(body: unknown): ParsedIngest {
  if (Array.isArray(body)) {
    const parsed = z.array(ingestEventSchema).safeParse(body);
    return parsed.success ? { ok: true, events: parsed.data } : { ok: false, error: describeIssues(parsed.error, "events") };
  }
  const parsed = ingestEventSchema.safeParse(body);
  return parsed.success ? { ok: true, events: [parsed.data] } : { ok: false, error: describeIssues(parsed.error, "event") };
}
