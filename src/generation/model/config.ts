import { z } from "zod";
import { DEFAULT_TOKEN_TIMEOUT_MS, TEXT_FLUSH_INTERVAL_MS } from "./tuning";

/** Blank counts as unset, as in the rest of the env schema (a `.env` line `LLM_BASE_URL=`). */
const blankIsUnset = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/**
 * The model's environment variables, for the server env schema (merge `modelEnvShape` into it).
 * LLM_BASE_URL unset means no model: the deterministic planner answers.
 */
export const modelEnvShape = {
  /** Any OpenAI-compatible base ending in /v1: OpenAI, Ollama http://localhost:11434/v1, vLLM, LM Studio, llama.cpp. */
  LLM_BASE_URL: z.preprocess(
    blankIsUnset,
    z
      // http(s) only: "localhost:11434/v1" would otherwise pass as a URL whose scheme is "localhost:".
      .url({ protocol: /^https?$/, error: "LLM_BASE_URL must be an http(s) URL such as http://localhost:11434/v1" })
      // fetch refuses a URL with credentials, so it would fail every generation: say so at start instead.
      .refine((url) => {
        const parsed = new URL(url);
        return parsed.username === "" && parsed.password === "";
      }, "LLM_BASE_URL must not contain credentials; put the key in LLM_API_KEY")
      .optional(),
  ),
  /** Optional for local servers; sent as `Authorization: Bearer …`. */
  LLM_API_KEY: z.preprocess(blankIsUnset, z.string().optional()),
  LLM_MODEL: z.preprocess(blankIsUnset, z.string().optional()),
  /** No token for this long fails the attempt. */
  LLM_TIMEOUT_MS: z.preprocess(blankIsUnset, z.coerce.number().int().min(100).max(600_000).default(DEFAULT_TOKEN_TIMEOUT_MS)),
  /** The model's text reaches the stream at most this often (ms); 0 publishes every chunk as it arrives. */
  LLM_STREAM_FLUSH_MS: z.preprocess(blankIsUnset, z.coerce.number().int().min(0).max(1_000).default(TEXT_FLUSH_INTERVAL_MS)),
};

export const modelEnvSchema = z.object(modelEnvShape).superRefine((env, ctx) => {
  if (env.LLM_BASE_URL !== undefined && env.LLM_MODEL === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["LLM_MODEL"],
      message: "LLM_MODEL is required with LLM_BASE_URL (e.g. llama3.1 for Ollama, gpt-4o-mini for OpenAI)",
    });
  }
});

export type ModelEnv = z.infer<typeof modelEnvSchema>;

export interface ModelConfig {
  /** Without a trailing slash, e.g. http://localhost:11434/v1. */
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  tokenTimeoutMs: number;
  /** Coalescing window of the text stream (src/generation/model/coalescer.ts); 0: none. */
  flushMs: number;
}

/** The planner's config from the parsed env; null when no model is configured. */
export function modelConfigFromEnv(
  env: Pick<ModelEnv, "LLM_BASE_URL" | "LLM_API_KEY" | "LLM_MODEL" | "LLM_TIMEOUT_MS" | "LLM_STREAM_FLUSH_MS">,
): ModelConfig | null {
  if (env.LLM_BASE_URL === undefined || env.LLM_MODEL === undefined) return null;
  return {
    baseUrl: env.LLM_BASE_URL.replace(/\/+$/, ""),
    apiKey: env.LLM_API_KEY,
    model: env.LLM_MODEL,
    tokenTimeoutMs: env.LLM_TIMEOUT_MS,
    flushMs: env.LLM_STREAM_FLUSH_MS,
  };
}
