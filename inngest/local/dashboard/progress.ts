import { z } from "zod";

/**
 * A run's progress events as the app published them (the app's GET /api/engine/runs/{id}/progress,
 * src/server/engine-progress.ts): the engine cannot see the app's per-project log, so it asks, with
 * the signing key. What the dashboard shows beside each step. Validated: it is another process's answer.
 */
const progressEventSchema = z.looseObject({
  id: z.string(),
  key: z.string(),
  event: z.looseObject({
    type: z.string(),
    at: z.number(),
    step: z.string().optional(),
    message: z.string().optional(),
    attempt: z.number().optional(),
  }),
});
const answerSchema = z.object({ runId: z.string(), projectId: z.string(), events: z.array(progressEventSchema) });

export type RunProgress = z.infer<typeof answerSchema>;
export type ProgressAnswer = { ok: true; progress: RunProgress } | { ok: false; reason: string };

const TIMEOUT_MS = 5_000;

export async function fetchRunProgress(appUrl: string, readKey: string | undefined, runId: string): Promise<ProgressAnswer> {
  if (readKey === undefined) {
    return {
      ok: false,
      reason:
        "the app shares a run's progress events only with a key: set INNGEST_SIGNING_KEY for the app and the executor (npm run dev shares a token of its own)",
    };
  }
  const url = new URL(`/api/engine/runs/${encodeURIComponent(runId)}/progress`, appUrl);
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${readKey}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    return { ok: false, reason: `the app did not answer at ${url.origin}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = z.object({ error: z.string() }).safeParse(body);
    return { ok: false, reason: `the app answered ${res.status}${error.success ? `: ${error.data.error}` : ""}` };
  }
  const parsed = answerSchema.safeParse(body);
  return parsed.success
    ? { ok: true, progress: parsed.data }
    : { ok: false, reason: `unexpected answer from the app: ${z.prettifyError(parsed.error)}` };
}
