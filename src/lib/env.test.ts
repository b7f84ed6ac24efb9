import { describe, expect, it } from "vitest";
import { inngestMode, parseServerEnv } from "./env";
import { modelConfigFromEnv } from "../generation/model";

const KEY = `signkey-prod-${"0123456789abcdef".repeat(4)}`;

describe("Inngest configuration", () => {
  it("is in cloud mode (verifying) with keys and no INNGEST_DEV, in dev mode otherwise", () => {
    expect(
      inngestMode(parseServerEnv({ INNGEST_SIGNING_KEY: KEY, INNGEST_EVENT_KEY: "e", INNGEST_BASE_URL: "http://inngest:8288" })),
    ).toEqual({ kind: "cloud" });
    expect(inngestMode(parseServerEnv({ INNGEST_SIGNING_KEY: KEY, INNGEST_DEV: "false" }))).toEqual({ kind: "cloud" });
    expect(inngestMode(parseServerEnv({}))).toEqual({ kind: "dev", url: "http://127.0.0.1:8288" });
    expect(inngestMode(parseServerEnv({ INNGEST_DEV: "http://127.0.0.1:9000", INNGEST_EVENT_KEY: "e" }))).toEqual({
      kind: "dev",
      url: "http://127.0.0.1:9000",
    });
  });
});

describe("the language model's variables", () => {
  const model = (env: Record<string, string>) => modelConfigFromEnv(parseServerEnv(env));

  it("are off when LLM_BASE_URL is unset or blank, and give the planner its config when set", () => {
    expect(model({})).toBeNull();
    expect(model({ LLM_BASE_URL: " ", LLM_MODEL: "" })).toBeNull();
    expect(model({ LLM_BASE_URL: "http://localhost:11434/v1/", LLM_MODEL: "llama3.1" })).toEqual({
      baseUrl: "http://localhost:11434/v1",
      apiKey: undefined,
      model: "llama3.1",
      tokenTimeoutMs: 30_000,
      flushMs: 50,
    });
    expect(
      model({ LLM_BASE_URL: "https://api.openai.com/v1", LLM_MODEL: "gpt-4o-mini", LLM_API_KEY: "sk-x", LLM_STREAM_FLUSH_MS: "0" }),
    ).toMatchObject({
      apiKey: "sk-x",
      flushMs: 0,
    });
  });

  it("refuse what cannot work, naming the variable", () => {
    expect(() => parseServerEnv({ LLM_BASE_URL: "localhost:11434" })).toThrow(/LLM_BASE_URL must be an http\(s\) URL/);
    expect(() => parseServerEnv({ LLM_BASE_URL: "http://localhost:11434/v1" })).toThrow(/LLM_MODEL is required with LLM_BASE_URL/);
    expect(() => parseServerEnv({ LLM_BASE_URL: "http://user:secret@localhost:11434/v1", LLM_MODEL: "m" })).toThrow(
      /LLM_BASE_URL must not contain credentials; put the key in LLM_API_KEY/,
    );
    expect(() => parseServerEnv({ LLM_TIMEOUT_MS: "50" })).toThrow(/LLM_TIMEOUT_MS/);
    expect(() => parseServerEnv({ LLM_STREAM_FLUSH_MS: "-1" })).toThrow(/LLM_STREAM_FLUSH_MS/);
    expect(() => parseServerEnv({ LLM_STREAM_FLUSH_MS: "5000" })).toThrow(/LLM_STREAM_FLUSH_MS/);
  });
});
