import { APICallError } from "ai";
import { NonRetriableError, RetryAfterError } from "inngest";
import type { ModelConfig } from "./config";
import { DEFAULT_RETRY_AFTER_MS } from "./tuning";

/**
 * One error type per way a model call can fail. `retriable` says whether another attempt of the
 * step can succeed; `toStepError` maps them onto the job engine's retry control.
 */
export abstract class ModelError extends Error {
  abstract readonly retriable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 401/403: the key is missing, wrong, or may not use this model. */
export class ModelAuthError extends ModelError {
  readonly retriable = false;
  constructor(
    readonly status: number,
    config: ModelConfig,
    options?: { cause?: unknown },
  ) {
    const key = config.apiKey === undefined ? "LLM_API_KEY is not set" : "check LLM_API_KEY";
    super(
      status === 401
        ? `The model endpoint ${config.baseUrl} rejected the request as unauthenticated (HTTP 401): ${key}.`
        : `The model endpoint ${config.baseUrl} refused access to model "${config.model}" (HTTP 403): check LLM_API_KEY and that this key may use LLM_MODEL.`,
      options,
    );
  }
}

/** 429: try again after the server's Retry-After. */
export class ModelRateLimitError extends ModelError {
  readonly retriable = true;
  /** From Retry-After / retry-after-ms; undefined when the server gave none. */
  constructor(
    readonly retryAfterMs: number | undefined,
    config: ModelConfig,
    options?: { cause?: unknown },
  ) {
    const wait = retryAfterMs === undefined ? "" : ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)`;
    super(`The model endpoint ${config.baseUrl} is rate limiting requests (HTTP 429)${wait}.`, options);
  }
}

/** 5xx, refused or reset connections: the endpoint is down or overloaded for now. */
export class ModelUnavailableError extends ModelError {
  readonly retriable = true;
  constructor(
    readonly status: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      status === undefined ? `The model endpoint could not be reached: ${detail}` : `The model endpoint failed (HTTP ${status}): ${detail}`,
      options,
    );
  }
}

/** The response stream ended before the model finished its answer. */
export class ModelStreamCutError extends ModelError {
  readonly retriable = true;
  constructor(
    readonly receivedChars: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`The model's answer broke off after ${receivedChars} characters: ${detail}`, options);
  }
}

/** No token for LLM_TIMEOUT_MS. */
export class ModelTimeoutError extends ModelError {
  readonly retriable = true;
  constructor(readonly timeoutMs: number) {
    super(`The model sent no token for ${timeoutMs} ms (LLM_TIMEOUT_MS).`);
  }
}

/** The prompt (message plus current plan) does not fit the model's context window. */
export class ModelContextTooLongError extends ModelError {
  readonly retriable = false;
  constructor(config: ModelConfig, options?: { cause?: unknown }) {
    super(
      `The request is too long for model "${config.model}"'s context window; use a model with a larger context or describe a smaller change.`,
      options,
    );
  }
}

/** Any other 4xx (unknown model, malformed request): retrying sends the same request again. */
export class ModelRequestError extends ModelError {
  readonly retriable = false;
  constructor(
    readonly status: number,
    detail: string,
    config: ModelConfig,
    options?: { cause?: unknown },
  ) {
    const hint = status === 404 ? ` Check LLM_MODEL ("${config.model}") and LLM_BASE_URL (${config.baseUrl}).` : "";
    super(`The model endpoint rejected the request (HTTP ${status}): ${detail}.${hint}`, options);
  }
}

/** The caller's signal aborted the request (the run was cancelled). */
export class ModelAbortedError extends ModelError {
  readonly retriable = false;
  constructor() {
    super("The model request was cancelled.");
  }
}

/** The model answered twice (once with the validation errors) without a valid plan. */
export class ModelPlanInvalidError extends ModelError {
  readonly retriable = false;
  constructor(readonly problems: readonly string[]) {
    super(
      `The model's plan was invalid: ${problems.slice(0, 8).join("; ")}${problems.length > 8 ? `; …and ${problems.length - 8} more` : ""}`,
    );
  }
}

const CONTEXT_TOO_LONG =
  /context_length_exceeded|context length|context window|maximum context|too many tokens|prompt is too long|exceeds the (?:model's )?(?:maximum|context)/i;

/** Retry-After is seconds or an HTTP date; OpenAI also sends retry-after-ms. */
export function retryAfterMs(headers: Record<string, string> | undefined, now: number = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const ms = Number(lower.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms >= 0 && lower.has("retry-after-ms")) return ms;
  const value = lower.get("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+(?:\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The server's own error message out of an OpenAI-style body, else the body itself (short). */
function detailOf(error: APICallError): string {
  const body = error.responseBody ?? "";
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof message === "string" && message.length > 0) return message.slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  return (body.trim() || error.message).slice(0, 300);
}

/** Whether a 400 says the endpoint does not take `response_format: json_schema` (so json_object is tried). */
export function isJsonSchemaRefusal(error: unknown): boolean {
  if (!APICallError.isInstance(error) || error.statusCode !== 400) return false;
  const text = `${error.responseBody ?? ""} ${error.message}`;
  return /response_format|json_schema|structured output/i.test(text) && !CONTEXT_TOO_LONG.test(text);
}

/** Maps anything a model call threw (HTTP errors from the SDK, socket errors) onto a ModelError. */
export function classifyModelError(error: unknown, config: ModelConfig, receivedChars = 0): ModelError {
  if (error instanceof ModelError) return error;
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status === undefined) return new ModelUnavailableError(undefined, error.message, { cause: error });
    // A 200 whose body broke while being read ("Failed to process successful response"): the stream was cut.
    if (status >= 200 && status < 300) {
      const detail = error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
      return receivedChars > 0
        ? new ModelStreamCutError(receivedChars, detail, { cause: error })
        : new ModelUnavailableError(undefined, detail, { cause: error });
    }
    if (status === 401 || status === 403) return new ModelAuthError(status, config, { cause: error });
    if (status === 429) return new ModelRateLimitError(retryAfterMs(error.responseHeaders), config, { cause: error });
    const detail = detailOf(error);
    if ((status === 400 || status === 413 || status === 422) && CONTEXT_TOO_LONG.test(`${error.responseBody ?? ""} ${error.message}`)) {
      return new ModelContextTooLongError(config, { cause: error });
    }
    if (status >= 500 || status === 408 || status === 409) return new ModelUnavailableError(status, detail, { cause: error });
    return new ModelRequestError(status, detail, config, { cause: error });
  }
  // Anything else broke the response body: a reset socket, a truncated chunk, a parse error mid-stream.
  const detail =
    error instanceof Error
      ? [error.message, error.cause instanceof Error ? error.cause.message : ""].filter(Boolean).join(": ")
      : String(error);
  if (receivedChars === 0) return new ModelUnavailableError(undefined, detail, { cause: error });
  return new ModelStreamCutError(receivedChars, detail, { cause: error });
}

/**
 * The job engine's view of a model failure: NonRetriableError for what another attempt cannot fix,
 * RetryAfterError for 429 (honouring Retry-After), the error itself (plain retry with backoff) otherwise.
 */
export function toStepError(error: ModelError): Error {
  if (error instanceof ModelRateLimitError)
    return new RetryAfterError(error.message, error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, { cause: error });
  if (!error.retriable) return new NonRetriableError(error.message, { cause: error });
  return error;
}
