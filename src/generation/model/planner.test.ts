import { NonRetriableError, RetryAfterError } from "inngest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CANNED_TODO_PLAN, type FakeModelServer, startFakeModelServer } from "../../test/fake-model-server";
import type { ApiPlan } from "../plan";
import type { ModelConfig } from "./config";
import {
  ModelAbortedError,
  ModelAuthError,
  ModelContextTooLongError,
  ModelError,
  ModelPlanInvalidError,
  ModelRateLimitError,
  ModelRequestError,
  ModelStreamCutError,
  ModelTimeoutError,
  ModelUnavailableError,
  retryAfterMs,
  toStepError,
} from "./errors";
import { planWithModel } from "./planner";
import { probeModel } from "./probe";

const TODO_MESSAGE = "I need a REST API for a todo app where users have lists and each list has tasks with a due date and a done flag";
const CANNED = JSON.stringify(CANNED_TODO_PLAN, null, 2);

let server: FakeModelServer;
let config: ModelConfig;

beforeAll(async () => {
  server = await startFakeModelServer();
  config = { baseUrl: server.baseUrl, apiKey: "sk-test", model: "fake-model", tokenTimeoutMs: 5_000, flushMs: 50 };
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
  server.setRefuseJsonSchema(false);
});

function chatRequests() {
  return server.requests.filter((r) => r.path === "/v1/chat/completions");
}

function bodyOf(index: number): {
  stream?: boolean;
  response_format?: { type: string; json_schema?: { schema: unknown } };
  messages: { role: string; content: string }[];
  model: string;
} {
  return chatRequests()[index]?.body as never;
}

async function plan(message: string, previousPlan: ApiPlan | null = null, extra: Partial<ModelConfig> = {}) {
  const deltas: string[] = [];
  const repairs: (readonly string[])[] = [];
  const result = await planWithModel({
    config: { ...config, ...extra },
    message,
    previousPlan,
    onText: (d) => deltas.push(d),
    onRepair: (p) => repairs.push(p),
  });
  return { result, deltas, repairs };
}

async function failure(run: Promise<unknown>): Promise<ModelError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return error as ModelError;
}

describe("planWithModel against an OpenAI-compatible server", () => {
  it("plans a free-form todo-app description, streaming every token through onText", async () => {
    const { result, deltas } = await plan(TODO_MESSAGE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.version).toBe(1);
    expect(result.plan.resources.map((r) => r.name)).toEqual(["users", "lists", "tasks"]);
    expect(result.plan.resources[2]?.fields.find((f) => f.name === "dueDate")?.type).toBe("date");
    expect(result.changes).toEqual([
      'Titled the API "Todo API"',
      "Added resource users: name, email unique",
      "Added resource lists: name, user -> users",
      "Added resource tasks: title, dueDate:date?, done:boolean, list -> lists",
    ]);
    expect(deltas.length).toBeGreaterThan(50);
    expect(deltas.join("")).toBe(CANNED);

    const body = bodyOf(0);
    expect(body.model).toBe("fake-model");
    expect(body.stream).toBe(true);
    expect(body.response_format?.type).toBe("json_schema");
    expect(body.response_format?.json_schema?.schema).toMatchObject({ type: "object", required: ["title", "resources"] });
    expect(body.messages.at(-1)?.content).toContain(TODO_MESSAGE);
    expect(chatRequests()[0]?.headers.authorization).toBe("Bearer sk-test");
  });

  it("hands over every token as it arrives: nothing is withheld while the model pauses mid-answer", async () => {
    // The server writes 40 tokens, then waits. It is released only once all 40 reached onText, so a
    // client that withholds text (as the SDK does with a structured `output`) never gets released.
    const held = CANNED.slice(0, 40 * 4);
    server.script({ kind: "hold", content: CANNED, afterTokens: 40 });
    let text = "";
    let sawHeld = false;
    const result = await planWithModel({
      config,
      message: TODO_MESSAGE,
      previousPlan: null,
      onText: (delta) => {
        text += delta;
        if (text === held) {
          sawHeld = true;
          server.release();
        }
      },
    });
    expect(sawHeld).toBe(true);
    expect(text).toBe(CANNED);
    expect(result.ok).toBe(true);
  });

  it("sends the current plan on a follow-up and diffs the new plan into changes", async () => {
    const first = await plan(TODO_MESSAGE);
    if (!first.result.ok) throw new Error("first plan failed");
    const next = structuredClone(CANNED_TODO_PLAN);
    next.resources[2]?.fields.push({ name: "priority", type: "int", optional: true, unique: false });
    next.resources.splice(0, 1, { ...next.resources[0]!, fields: [next.resources[0]!.fields[0]!] });
    server.script({ kind: "stream", content: JSON.stringify(next) });
    const { result } = await plan("add an optional priority to tasks and drop the email of users", first.result.plan);
    expect(result).toEqual({
      ok: true,
      plan: { ...next, version: 2 },
      changes: ["Changed users: removed email", "Changed tasks: added priority:int?"],
    });
    const prompt = bodyOf(1).messages.at(-1)?.content ?? "";
    expect(prompt).toContain('"title":"Todo API"');
    expect(prompt).toContain("version 1");
    expect(prompt).toContain("add an optional priority");
  });

  it("answers an unchanged plan on a follow-up with a reply, not a new version", async () => {
    const previous: ApiPlan = { ...CANNED_TODO_PLAN, version: 4 } as ApiPlan;
    const { result } = await plan("make it nicer", previous);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reply).toMatch(/unchanged/);
  });

  it("a stream cut mid-way is a retriable error, and the text so far reached onText", async () => {
    server.script({ kind: "cut", content: CANNED, afterTokens: 20 });
    const deltas: string[] = [];
    const error = await failure(planWithModel({ config, message: TODO_MESSAGE, previousPlan: null, onText: (d) => deltas.push(d) }));
    expect(error).toBeInstanceOf(ModelStreamCutError);
    expect(error.retriable).toBe(true);
    // Everything the client received before the cut reached onText, in order (the server sent 80 characters).
    const received = deltas.join("");
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThanOrEqual(80);
    expect(CANNED.startsWith(received)).toBe(true);
    expect((error as ModelStreamCutError).receivedChars).toBe(received.length);
    expect(toStepError(error)).toBe(error); // plain error: the engine retries with backoff
  });

  it("repairs an invalid first answer with one more round that carries the problems", async () => {
    const dangling = {
      title: "Todo API",
      resources: [
        { name: "tasks", singular: "task", fields: [{ name: "listId", type: "ref", optional: false, unique: false, ref: "lists" }] },
      ],
    };
    server.script({ kind: "stream", content: JSON.stringify(dangling) }, { kind: "stream", content: CANNED });
    const { result, repairs, deltas } = await plan(TODO_MESSAGE);
    expect(result.ok).toBe(true);
    expect(repairs).toHaveLength(1);
    expect(repairs[0]?.join(" ")).toMatch(/refers to "lists"/);
    expect(deltas.join("")).toBe(JSON.stringify(dangling) + CANNED);
    const repair = bodyOf(1).messages;
    expect(repair.at(-2)).toEqual({ role: "assistant", content: JSON.stringify(dangling) });
    expect(repair.at(-1)?.content).toMatch(/not a valid plan[\s\S]*refers to "lists"/);
  });

  it("fails readably when the repaired answer is invalid too", async () => {
    server.script({ kind: "stream", content: "Sure! Here is your API." }, { kind: "stream", content: '{"title":"x","resources":[]}' });
    const error = await failure(plan(TODO_MESSAGE));
    expect(error).toBeInstanceOf(ModelPlanInvalidError);
    expect(error.message).toMatch(/^The model's plan was invalid: .*at least one resource/);
    expect(toStepError(error)).toBeInstanceOf(NonRetriableError);
    expect(chatRequests()).toHaveLength(2);
  });

  it("accepts a fenced answer and nulls for absent keys (json_object habits of local models)", async () => {
    const withNulls = CANNED.replace('"unique": false\n        }', '"unique": false, "min": null\n        }');
    server.script({ kind: "stream", content: `\`\`\`json\n${withNulls}\n\`\`\`` });
    const { result } = await plan(TODO_MESSAGE);
    expect(result.ok).toBe(true);
  });

  it("falls back to json_object with the schema in the prompt when json_schema is refused", async () => {
    server.setRefuseJsonSchema(true);
    const { result } = await plan(TODO_MESSAGE);
    expect(result.ok).toBe(true);
    expect(chatRequests()).toHaveLength(2);
    expect(bodyOf(0).response_format?.type).toBe("json_schema");
    expect(bodyOf(1).response_format).toEqual({ type: "json_object" });
    expect(bodyOf(1).messages[0]?.content).toContain('"required":["title","resources"]');
    expect(bodyOf(0).messages[0]?.content).not.toContain("JSON Schema");
  });

  it.each([
    [401, ModelAuthError, /LLM_API_KEY/, NonRetriableError],
    [403, ModelAuthError, /LLM_API_KEY/, NonRetriableError],
    [404, ModelRequestError, /LLM_MODEL/, NonRetriableError],
    [500, ModelUnavailableError, /HTTP 500/, ModelUnavailableError],
    [503, ModelUnavailableError, /HTTP 503/, ModelUnavailableError],
  ])("classifies HTTP %i", async (status, type, message, stepError) => {
    server.script({ kind: "status", status, message: "nope" });
    const error = await failure(plan(TODO_MESSAGE));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
    expect(toStepError(error)).toBeInstanceOf(stepError);
    expect(chatRequests()).toHaveLength(1); // the SDK's own retries are off
  });

  it("classifies 429 as retry-after, carrying Retry-After", async () => {
    server.script({ kind: "status", status: 429, message: "slow down", headers: { "retry-after": "7" } });
    const error = await failure(plan(TODO_MESSAGE));
    expect(error).toBeInstanceOf(ModelRateLimitError);
    expect((error as ModelRateLimitError).retryAfterMs).toBe(7000);
    const step = toStepError(error);
    expect(step).toBeInstanceOf(RetryAfterError);
    expect((step as RetryAfterError).retryAfter).toBe("7");
  });

  it("reads Retry-After as seconds, HTTP date or retry-after-ms", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs({ "Retry-After": "3" }, now)).toBe(3000);
    expect(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 00:00:10 GMT" }, now)).toBe(10_000);
    expect(retryAfterMs({ "retry-after-ms": "250", "retry-after": "1" }, now)).toBe(250);
    expect(retryAfterMs({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });

  it("classifies a context-length 400 as a readable non-retriable failure", async () => {
    server.script({
      kind: "status",
      status: 400,
      message: "This model's maximum context length is 8192 tokens.",
      code: "context_length_exceeded",
      type: "invalid_request_error",
    });
    const error = await failure(plan(TODO_MESSAGE));
    expect(error).toBeInstanceOf(ModelContextTooLongError);
    expect(error.message).toMatch(/too long for model "fake-model"/);
    expect(toStepError(error)).toBeInstanceOf(NonRetriableError);
  });

  it("classifies an unreachable endpoint as retriable", async () => {
    const closed = await startFakeModelServer();
    await closed.close();
    const error = await failure(
      planWithModel({ config: { ...config, baseUrl: closed.baseUrl }, message: TODO_MESSAGE, previousPlan: null }),
    );
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect(error.retriable).toBe(true);
  });

  it("aborting the signal aborts the upstream request within a second", async () => {
    server.script({ kind: "stall", content: CANNED, afterTokens: 5 });
    const controller = new AbortController();
    const started = new Promise<void>((resolve) => server.events.once("token", () => resolve()));
    const running = planWithModel({ config, message: TODO_MESSAGE, previousPlan: null, signal: controller.signal });
    await started;
    const aborted = server.nextAbort();
    const at = performance.now();
    controller.abort();
    const error = await failure(running);
    const record = await aborted;
    expect(performance.now() - at).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ModelAbortedError);
    expect(record.path).toBe("/v1/chat/completions");
    expect(record.aborted).toBe(true);
  });

  it("fails the attempt when no token arrives for LLM_TIMEOUT_MS", async () => {
    server.script({ kind: "stall", content: CANNED, afterTokens: 3 });
    const aborted = server.nextAbort();
    const error = await failure(plan(TODO_MESSAGE, null, { tokenTimeoutMs: 200 }));
    expect(error).toBeInstanceOf(ModelTimeoutError);
    expect(error.message).toMatch(/200 ms/);
    expect(error.retriable).toBe(true);
    expect((await aborted).aborted).toBe(true); // the stalled request was closed, not left hanging
  });
});

describe("probeModel", () => {
  it("reports an unconfigured model without a request", async () => {
    expect(await probeModel(null)).toEqual({ configured: false, reachable: false });
  });

  it("reports a reachable endpoint with its latency", async () => {
    const probe = await probeModel(config);
    expect(probe).toMatchObject({ configured: true, reachable: true });
    expect(probe.latencyMs).toBeGreaterThanOrEqual(0);
    expect(server.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/models" });
    expect(server.requests.at(-1)?.headers.authorization).toBe("Bearer sk-test");
  });

  it("reports an endpoint that is down without throwing", async () => {
    const closed = await startFakeModelServer();
    await closed.close();
    const probe = await probeModel({ ...config, baseUrl: closed.baseUrl });
    expect(probe.configured).toBe(true);
    expect(probe.reachable).toBe(false);
    expect(probe.error).toBeTruthy();
  });
});
