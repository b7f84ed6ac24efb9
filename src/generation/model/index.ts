// The model planner: an OpenAI-compatible language model writes the plan; its text streams through the coalescer.
export { modelEnvShape, modelEnvSchema, modelConfigFromEnv, type ModelConfig, type ModelEnv } from "./config";
export { planWithModel, type PlanWithModelInput, type ResponseMode } from "./planner";
export { probeModel, type ModelProbe } from "./probe";
export { createTextCoalescer, type TextCoalescer, type TextCoalescerOptions, type CoalescerTimer } from "./coalescer";
export {
  ModelError,
  ModelAuthError,
  ModelRateLimitError,
  ModelUnavailableError,
  ModelStreamCutError,
  ModelTimeoutError,
  ModelContextTooLongError,
  ModelRequestError,
  ModelAbortedError,
  ModelPlanInvalidError,
  classifyModelError,
  toStepError,
} from "./errors";
export { TEXT_FLUSH_INTERVAL_MS, TEXT_FLUSH_MAX_BYTES, DEFAULT_TOKEN_TIMEOUT_MS, PROBE_TIMEOUT_MS } from "./tuning";
