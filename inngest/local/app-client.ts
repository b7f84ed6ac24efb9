import { z } from "zod";
import { retryAfterMs } from "./duration";
import { describe, isConnectionError, toSerializedError } from "./errors";
import { appRequestHeaders, checkResponseSignature, SIGNATURE_HEADER, unauthorizedHint } from "./signing";
import type { SerializedError, StoredEvent } from "./types";

/** A memoized step result as the SDK expects it in `steps`. */
export type StepState = { data: unknown } | { error: SerializedError };

/** One op from a 206 answer. */
export const opSchema = z.looseObject({
  id: z.string().min(1),
  op: z.string().min(1),
  name: z.string().optional(),
  displayName: z.string().optional(),
  opts: z.record(z.string(), z.unknown()).nullish(),
  data: z.unknown().optional(),
  error: z.unknown().optional(),
});
export type Op = z.infer<typeof opSchema>;

export type CallOutcome =
  | { kind: "complete"; data: unknown }
  | { kind: "ops"; ops: Op[] }
  | { kind: "error"; retriable: boolean; status: number; error: SerializedError; retryAfterMs?: number }
  | { kind: "unreachable"; error: string }
  | { kind: "unknown-function"; error: string };

export interface CallRequest {
  /** The function's step URL from the sync. */
  url: string;
  /** "step" to discover, or a hashed step id to run that step. */
  stepId: string;
  event: StoredEvent;
  steps: Record<string, StepState>;
  stack: string[];
  runId: string;
  attempt: number;
  maxAttempts: number;
  disableImmediateExecution: boolean;
  timeoutMs: number;
  /** Sign the call (and verify a signed answer) with this key; unsigned without. */
  signingKey?: string;
}

/** The wire form of an event: the executor's bookkeeping field stays out. */
export function wireEvent(event: StoredEvent): Record<string, unknown> {
  const { internalId: _internalId, ...rest } = event;
  return rest;
}

/**
 * One call to the app's serve endpoint, classified. `fn_id` is never sent: with it the v4 SDK
 * would checkpoint to an API this executor does not have.
 */
export async function callApp(req: CallRequest): Promise<CallOutcome> {
  const url = new URL(req.url);
  url.searchParams.set("stepId", req.stepId);
  const event = wireEvent(req.event);
  const body = {
    event,
    events: [event],
    steps: req.steps,
    ctx: {
      run_id: req.runId,
      attempt: req.attempt,
      max_attempts: req.maxAttempts,
      disable_immediate_execution: req.disableImmediateExecution,
      use_api: false,
      stack: { stack: req.stack, current: req.stack.length },
    },
    version: 2,
  };
  let res: Response;
  let text: string;
  const bodyText = JSON.stringify(body);
  try {
    res = await fetch(url, {
      method: "POST",
      headers: appRequestHeaders(bodyText, req.signingKey),
      body: bodyText,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    if (isConnectionError(err)) return { kind: "unreachable", error: describe(err) };
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    const message = timedOut ? `the app did not answer within ${req.timeoutMs} ms` : describe(err);
    return { kind: "error", retriable: true, status: 0, error: { name: "Error", message } };
  }
  // A proxy or a restarting dev server answering for the app: the app itself is not there.
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    return { kind: "unreachable", error: `HTTP ${res.status} from the app` };
  }
  if (req.signingKey !== undefined) {
    const signature = checkResponseSignature(res.headers.get(SIGNATURE_HEADER), text, req.signingKey);
    if (signature.kind === "invalid") {
      return {
        kind: "error",
        retriable: true,
        status: res.status,
        error: { name: "Error", message: `the app's answer has an invalid signature: ${signature.reason}` },
      };
    }
  }
  let json: unknown;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.status === 200 && json !== undefined) return { kind: "complete", data: json };
  if (res.status === 206) {
    const ops = z.array(opSchema).safeParse(json);
    if (ops.success) return { kind: "ops", ops: ops.data };
    return {
      kind: "error",
      retriable: true,
      status: 206,
      error: { name: "Error", message: `invalid ops from the app: ${ops.error.message}` },
    };
  }
  const error = toSerializedError(json ?? text, `HTTP ${res.status} from the app`);
  if (res.status === 401) error.message = `${error.message} (${unauthorizedHint(req.signingKey !== undefined)})`;
  if (res.status === 500 && /was not found in this app/.test(error.message)) return { kind: "unknown-function", error: error.message };
  const noRetry = res.headers.get("x-inngest-no-retry") === "true";
  return {
    kind: "error",
    retriable: !noRetry && res.status !== 400,
    status: res.status,
    error,
    retryAfterMs: retryAfterMs(res.headers.get("retry-after")),
  };
}
