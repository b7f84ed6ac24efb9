import { z } from "zod";

/** The part of /api/health's answer the app-wide banner reads (src/server/health.ts writes it). */
const dependency = z.object({ ok: z.boolean(), error: z.string().optional() });
export const healthSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  database: dependency,
  jobEngine: dependency.extend({ kind: z.string() }),
  eventLog: dependency.extend({ kind: z.string() }).optional(),
  /** Never part of `status`: a model that is down leaves the app up, and generations retry it. */
  model: z
    .object({
      configured: z.boolean(),
      reachable: z.boolean(),
      url: z.string().optional(),
      status: z.number().int().optional(),
    })
    .optional(),
});

export type HealthSummary = z.infer<typeof healthSchema>;

/** What is wrong, in words for the person using the app, one phrase per problem; empty when all is well. */
export function healthProblems(health: HealthSummary): string[] {
  const problems: string[] = [];
  if (!health.database.ok) problems.push("the database is unreachable");
  if (!health.jobEngine.ok)
    problems.push(`the job engine (${health.jobEngine.kind}) is unreachable — messages you send are kept and can be retried`);
  if (health.eventLog && !health.eventLog.ok) {
    problems.push(
      "live progress is degraded (event log unreachable) — messages you send are kept and can be retried; progress resumes when it is back",
    );
  }
  const model = health.model;
  if (model?.configured && !model.reachable) {
    const at = model.url === undefined ? "the language model" : `the language model at ${model.url}`;
    problems.push(
      model.status === 401 || model.status === 403
        ? `${at} refuses its API key (check LLM_API_KEY) — generations fail until that is fixed`
        : `${at} is not reachable — generations retry it, and fail if it stays down`,
    );
  }
  return problems;
}
