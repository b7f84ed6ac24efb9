import type { ApiPlan, ParseResult } from "../src/generation";
import { ModelError, createTextCoalescer, planWithModel, toStepError, type ModelConfig } from "../src/generation/model";
import type { ReportText } from "./run-reporter";

/**
 * The plan step's model path: the model writes the plan while its text reaches every tab, coalesced
 * (src/generation/model/tuning.ts) and keyed by attempt (a retry's text replaces the failed one's).
 * Model failures leave as the job engine's errors: non-retriable, retry-after, or plain (retried).
 */
export async function planByModel(
  model: ModelConfig,
  message: string,
  previous: ApiPlan | null,
  writeText: ReportText,
  /** Aborted when the run is cancelled: the request to the model is aborted with it. */
  signal?: AbortSignal,
): Promise<ParseResult> {
  const coalescer = createTextCoalescer({ flush: writeText, intervalMs: model.flushMs });
  try {
    const result = await planWithModel({
      config: model,
      message,
      previousPlan: previous,
      ...(signal ? { signal } : {}),
      onText: (delta) => coalescer.push(delta),
      // The repair round writes the plan again: its text follows a visible marker, not the invalid one.
      onRepair: () => coalescer.push("\n\n[the plan was invalid; the model is asked again]\n\n"),
    });
    await coalescer.end();
    return result;
  } catch (error) {
    // A cancelled run's text stops where it was; a failed attempt's stays visible until the retry's replaces it.
    if (signal?.aborted) coalescer.discard();
    else await coalescer.end().catch(() => undefined);
    throw error instanceof ModelError ? toStepError(error) : error;
  }
}
