import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { type JSONValue, type ModelMessage, streamText } from "ai";
import { failureReply } from "../help";
import { MAX_MESSAGE_LENGTH, type ParseResult } from "../parse";
import { type ApiPlan, apiPlanSchema } from "../plan";
import { diffPlans } from "../plan-diff";
import type { ModelConfig } from "./config";
import {
  classifyModelError,
  isJsonSchemaRefusal,
  ModelAbortedError,
  ModelError,
  ModelPlanInvalidError,
  ModelStreamCutError,
  ModelTimeoutError,
} from "./errors";
import { MODEL_PLAN_JSON_SCHEMA, type ModelPlan, modelPlanSchema, repairPrompt, systemPrompt, userPrompt } from "./prompt";
import { MAX_PLAN_TEXT_CHARS } from "./tuning";

export interface PlanWithModelInput {
  config: ModelConfig;
  message: string;
  previousPlan: ApiPlan | null;
  /** Aborting it aborts the HTTP request to the model at once (cancel). */
  signal?: AbortSignal;
  /** Every text delta as it arrives, across the rounds of this call (see onRepair). */
  onText?: (delta: string) => void;
  /** The first answer was not a valid plan; the model is asked once more, and its new text follows. */
  onRepair?: (problems: readonly string[]) => void;
}

/** `json_schema` where the endpoint accepts it; `json_object` with the schema in the prompt where it does not. */
export type ResponseMode = "json_schema" | "json_object";

/** The provider's name, which is also its key in `providerOptions`. */
const PROVIDER = "llm";

interface Answer {
  text: string;
  /** The server said the answer is complete (finish_reason present). */
  finished: boolean;
}

/**
 * One streamed chat completion. Resolves with the whole text; throws a ModelError. The token
 * timer starts with the request, so a server that never answers fails the same way as one that stalls.
 */
async function streamAnswer(input: PlanWithModelInput, messages: ModelMessage[], mode: ResponseMode): Promise<Answer> {
  const system = systemPrompt(mode === "json_object");
  const { config, signal, onText } = input;
  if (signal?.aborted) throw new ModelAbortedError();
  const provider = createOpenAICompatible({
    name: PROVIDER,
    baseURL: config.baseUrl,
    ...(config.apiKey === undefined ? {} : { apiKey: config.apiKey }),
  });
  const idle = new AbortController();
  const abortSignal = signal === undefined ? idle.signal : AbortSignal.any([signal, idle.signal]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const armTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new ModelTimeoutError(config.tokenTimeoutMs)), config.tokenTimeoutMs);
  };
  let text = "";
  let finished = false;
  try {
    armTimer();
    const result = streamText({
      model: provider.chatModel(config.model),
      system,
      messages,
      // The job engine owns retries (with its backoff and attempt-aware text); the SDK must not retry inside a step.
      maxRetries: 0,
      abortSignal,
      temperature: 0,
      // response_format goes in the body as a provider option, not as the SDK's `output`: with an
      // output the SDK re-parses the whole text on every token (quadratic in the plan's length) and
      // withholds text until the parsed value changes, so the panel would lag the model.
      providerOptions: { [PROVIDER]: { response_format: responseFormat(mode) } },
      // Errors arrive as stream parts and are classified below; the SDK's default handler would print them.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      if (part.type === "text-delta" || part.type === "reasoning-delta") armTimer();
      if (part.type === "text-delta" && part.text.length > 0) {
        text += part.text;
        if (text.length > MAX_PLAN_TEXT_CHARS)
          throw new ModelPlanInvalidError([`the answer is longer than ${MAX_PLAN_TEXT_CHARS} characters`]);
        onText?.(part.text);
      } else if (part.type === "finish-step") {
        finished = part.rawFinishReason !== undefined;
      } else if (part.type === "error") {
        throw part.error;
      } else if (part.type === "abort") {
        break;
      }
    }
  } catch (error) {
    if (error instanceof ModelError) throw error;
    if (signal?.aborted) throw new ModelAbortedError();
    if (idle.signal.aborted) throw new ModelTimeoutError(config.tokenTimeoutMs);
    throw classifyModelError(error, config, text.length);
  } finally {
    clearTimeout(timer);
  }
  if (signal?.aborted) throw new ModelAbortedError();
  if (idle.signal.aborted) throw new ModelTimeoutError(config.tokenTimeoutMs);
  return { text, finished };
}

/** The OpenAI `response_format` of a mode. `strict` stays off: the plan has optional keys (min, max, values, ref). */
function responseFormat(mode: ResponseMode): JSONValue {
  return mode === "json_schema"
    ? { type: "json_schema", json_schema: { name: "api_plan", schema: MODEL_PLAN_JSON_SCHEMA as JSONValue, strict: false } }
    : { type: "json_object" };
}

/** Local models in json_object mode sometimes wrap the object in a markdown fence. */
function stripFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*\n?([\s\S]*?)\n?```\s*$/i.exec(text);
  return fenced?.[1] ?? text;
}

/** Drop `"min": null` and the like: "absent" written as null by models that fill every key. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

type Checked = { ok: true; plan: ModelPlan } | { ok: false; problems: string[] };

function checkAnswer(text: string): Checked {
  let json: unknown;
  try {
    json = JSON.parse(stripFence(text));
  } catch (error) {
    return { ok: false, problems: [`the answer is not JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  const parsed = modelPlanSchema.safeParse(withoutNulls(json));
  if (parsed.success) return { ok: true, plan: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)),
  };
}

/** An answer the step can use, or a stream that broke off (retriable) rather than a plan to repair. */
async function answerOnce(
  input: PlanWithModelInput,
  messages: ModelMessage[],
  mode: { current: ResponseMode },
): Promise<{ text: string; checked: Checked }> {
  let answer: Answer;
  try {
    answer = await streamAnswer(input, messages, mode.current);
  } catch (error) {
    // Endpoints without structured outputs answer 400 naming response_format: ask again in json_object mode.
    if (mode.current === "json_schema" && error instanceof ModelError && isJsonSchemaRefusal(error.cause)) {
      mode.current = "json_object";
      answer = await streamAnswer(input, messages, mode.current);
    } else {
      throw error;
    }
  }
  const checked = checkAnswer(answer.text);
  if (!checked.ok && !answer.finished) throw new ModelStreamCutError(answer.text.length, "the stream ended without a finish reason");
  return { text: answer.text, checked };
}

function notUnderstood(problem: string, previous: ApiPlan | null): ParseResult {
  return { ok: false, understood: [], reply: failureReply({ problems: [problem], understood: [], previous, modelHint: false }) };
}

/**
 * The plan step with a language model: asks for the complete plan as JSON (a follow-up sends the
 * current plan too), validates it with the plan schema, repairs once, and diffs it against the
 * previous plan for the "Changes" list. Returns the parser's result type; throws ModelError
 * (see errors.ts and toStepError) when the model cannot be used.
 */
export async function planWithModel(input: PlanWithModelInput): Promise<ParseResult> {
  const message = input.message.trim();
  if (message.length === 0) return notUnderstood("Your message is empty.", input.previousPlan);
  if (message.length > MAX_MESSAGE_LENGTH) {
    return notUnderstood(`That message is too long (${message.length} characters; at most ${MAX_MESSAGE_LENGTH}).`, input.previousPlan);
  }
  let previous: ApiPlan | null = null;
  if (input.previousPlan !== null) {
    const checked = apiPlanSchema.safeParse(input.previousPlan);
    if (!checked.success) {
      return notUnderstood(
        `The stored plan is not valid, so I can't change it: ${checked.error.issues.map((i) => i.message).join("; ")}`,
        null,
      );
    }
    previous = checked.data;
  }

  const mode = { current: "json_schema" as ResponseMode };
  const messages: ModelMessage[] = [{ role: "user", content: userPrompt({ message, previousPlan: previous }) }];
  let answer = await answerOnce(input, messages, mode);
  if (!answer.checked.ok) {
    const problems = answer.checked.problems;
    input.onRepair?.(problems);
    messages.push({ role: "assistant", content: answer.text }, { role: "user", content: repairPrompt(problems) });
    answer = await answerOnce(input, messages, mode);
    if (!answer.checked.ok) throw new ModelPlanInvalidError(answer.checked.problems);
  }

  const plan: ApiPlan = {
    title: answer.checked.plan.title.trim(),
    version: previous === null ? 1 : previous.version + 1,
    resources: answer.checked.plan.resources,
  };
  const changes = diffPlans(previous, plan);
  if (previous !== null && changes.length === 0)
    return notUnderstood("The model returned the API unchanged; say what to add, remove or rename.", previous);
  return { ok: true, plan, changes };
}
