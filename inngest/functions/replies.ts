import type { ApiPlan } from "../../src/generation";
import { describePlan } from "../../src/generation";
import type { StepName } from "../../src/streaming/protocol";

/** The assistant's message for a generated version: what it built and what changed. */
export function assistantReply(plan: ApiPlan, changes: string[], version: number): string {
  const lines = [`Generated ${plan.title}, version ${version}.`, "", ...describePlan(plan).map((l) => `- ${l}`)];
  if (changes.length > 0) lines.push("", "Changes:", ...changes.map((c) => `- ${c}`));
  lines.push("", "The OpenAPI 3.1 document and the TypeScript handlers are below.");
  return lines.join("\n");
}

export function failureReply(reason: string, step: StepName | undefined): string {
  return `The generation failed${step ? ` at step ${step}` : ""}: ${reason}\nSend the message again, or rephrase it.`;
}

export function cancelledReply(reason: string): string {
  return `The generation was cancelled (${reason}).\nSend the message again to start over.`;
}

/** A run the job engine no longer has (restarted without its store, lost its queue): the reconciler's reason. */
export const LOST_RUN_REASON = "The job engine lost this run; send it again";

/** A message the job engine accepted and then lost before its run started (an in-memory engine that restarted): the reconciler's reason. */
export const LOST_MESSAGE_REASON = "The job engine lost this message before its run started; send it again";

/** A run cancelled in the job engine itself (its dashboard, its REST API) rather than through the app. */
export const ENGINE_CANCELLED_REASON = "Cancelled in the job engine";
