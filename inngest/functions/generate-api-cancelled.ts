import { z } from "zod";
import { inngest } from "../client";
import { defaultDeps } from "../deps";
import { apiIterate } from "../events";
import { RunReporter, type ReporterDeps } from "../run-reporter";
import { ENGINE_CANCELLED_REASON } from "./replies";

/** The id the engine gives the generation function: the app's id, then the function's (as Inngest composes it). */
export const GENERATE_API_FUNCTION_ID = `${inngest.id}-generate-api`;

/** Inngest's `inngest/function.cancelled` payload, as far as this handler reads it. */
const cancelledSchema = z.object({
  function_id: z.string(),
  run_id: z.string().min(1),
  event: z.object({ data: apiIterate.schema }),
});

/**
 * A generation cancelled in the job engine itself (the engine's dashboard or its REST API:
 * `DELETE /v1/runs/{id}`, on the embedded executor or a real Inngest) rather than through the app:
 * the engine stops calling the run and sends `inngest/function.cancelled`; this stores the run as
 * cancelled and publishes run.cancelled to every tab. A cancel the app took itself (generation.cancel,
 * whose api/cancel makes the engine send this too) has already ended the run: finish keeps that end.
 */
export function createGenerateApiCancelled(getDeps: () => Promise<ReporterDeps> = defaultDeps) {
  return inngest.createFunction(
    {
      id: "generate-api-cancelled",
      name: "Generate API: cancelled in the engine",
      triggers: [{ event: "inngest/function.cancelled", if: `event.data.function_id == "${GENERATE_API_FUNCTION_ID}"` }],
    },
    async ({ event }) => {
      const data = cancelledSchema.parse(event.data);
      const reporter = new RunReporter(await getDeps(), { ...data.event.data, runId: data.run_id });
      const result = await reporter.finish({ status: "cancelled", reason: ENGINE_CANCELLED_REASON });
      return { runId: data.run_id, finishedNow: result.finishedNow, status: result.status };
    },
  );
}

export const generateApiCancelled = createGenerateApiCancelled();
