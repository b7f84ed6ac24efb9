/**
 * A local OpenAI-compatible chat-completions server for tests, Playwright and the bench. It speaks
 * the documented streaming protocol (SSE `data: {chat.completion.chunk}` lines ending with
 * `data: [DONE]`) and `GET /v1/models`, answers each request from a script, and records every
 * request with whether the client aborted it.
 *
 *   npx tsx src/test/fake-model-server.ts --port 4010 [--token-rate 100]
 */
import { EventEmitter, once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";

/** The plan the server streams when nothing else is scripted: the todo app of issue 11. */
export const CANNED_TODO_PLAN = {
  title: "Todo API",
  resources: [
    {
      name: "users",
      singular: "user",
      fields: [
        { name: "name", type: "string", optional: false, unique: false },
        { name: "email", type: "string", optional: false, unique: true },
      ],
    },
    {
      name: "lists",
      singular: "list",
      fields: [
        { name: "name", type: "string", optional: false, unique: false },
        { name: "userId", type: "ref", optional: false, unique: false, ref: "users" },
      ],
    },
    {
      name: "tasks",
      singular: "task",
      fields: [
        { name: "title", type: "string", optional: false, unique: false },
        { name: "dueDate", type: "date", optional: true, unique: false },
        { name: "done", type: "boolean", optional: false, unique: false },
        { name: "listId", type: "ref", optional: false, unique: false, ref: "lists" },
      ],
    },
  ],
};

/**
 * One content chunk as the server wrote it: the characters [offset, end) of the step's `content`,
 * written (res.write called) at `writtenAt` — wall clock in ms as performance.timeOrigin +
 * performance.now(), the clock the bench's load client stamps receipts with.
 */
export interface WrittenChunk {
  /** 0-based index of the chunk in its response. */
  index: number;
  offset: number;
  end: number;
  writtenAt: number;
}

/** What the server does with one chat-completions request. */
export type ScriptStep =
  /** Stream `content` token by token, then finish_reason "stop" and [DONE]. */
  | { kind: "stream"; content: string }
  /** Stream the first `afterTokens` tokens of `content`, then destroy the socket (no [DONE]). */
  | { kind: "cut"; content: string; afterTokens: number }
  /** Stream the first `afterTokens` tokens, then send nothing more until the client gives up. */
  | { kind: "stall"; content: string; afterTokens: number }
  /** Stream the first `afterTokens` tokens, emit `held`, wait for `release()`, then stream the rest and finish. */
  | { kind: "hold"; content: string; afterTokens: number }
  /** Answer with an HTTP error and an OpenAI-style error body. */
  | { kind: "status"; status: number; message: string; code?: string; type?: string; headers?: Record<string, string> };

/**
 * How GET /v1/models answers: the model list, an HTTP error, nothing at all until the client gives
 * up, or one of those once `until` settles (a test's handshake for "the endpoint is slow").
 */
export type ModelsAnswer =
  | { kind: "list" }
  | { kind: "status"; status: number; message: string; headers?: Record<string, string> }
  | { kind: "stall" }
  | { kind: "wait"; until: Promise<unknown>; answer: ModelsAnswer };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** The client closed the connection before the response ended. */
  aborted: boolean;
  /** The response was written to the end. */
  completed: boolean;
}

export interface FakeModelServerEvents {
  aborted: [RecordedRequest];
  token: [RecordedRequest, number];
  request: [RecordedRequest];
  /** A `hold` step streamed its first tokens and waits for release(). */
  held: [RecordedRequest];
  /** Every content chunk of a chat response, just before it is written. */
  chunk: [RecordedRequest, WrittenChunk];
}

export interface FakeModelServerOptions {
  port?: number;
  host?: string;
  /** The server's token rate (tokens per second) when streaming; 0 writes every token at once. */
  tokenRate?: number;
  /** Characters per streamed token. */
  tokenSize?: number;
  /** Answer 400 to any request asking for `response_format: json_schema` (as servers without structured outputs do). */
  refuseJsonSchema?: boolean;
  /** Used when the script is empty. */
  defaultStep?: ScriptStep;
  /** Model ids listed by GET /v1/models. */
  models?: string[];
}

export interface FakeModelServer {
  /** The OpenAI-compatible base, e.g. http://127.0.0.1:4010/v1 (what LLM_BASE_URL is set to). */
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  /** Steps answered in order, one per chat-completions request; then `defaultStep`. */
  script(...steps: ScriptStep[]): void;
  setTokenRate(tokensPerSecond: number): void;
  setRefuseJsonSchema(refuse: boolean): void;
  /**
   * The next `count` streamed answers wait (before their response headers) until all `count` requests
   * have arrived, then stream together — "N generations at once" even when their requests arrive over
   * seconds. Their first tokens are spread evenly over one token interval, so their chunks interleave
   * instead of being written in bursts of `count`. Resolves when they are released.
   */
  holdStreams(count: number): Promise<void>;
  /**
   * From now on a streamed answer writes all its tokens, then waits before its end (finish_reason and
   * [DONE]) until releaseEnds(): the client has the whole text but its request is not over yet.
   */
  holdEnds(): void;
  releaseEnds(): void;
  /** How GET /v1/models answers from now on (initially the model list). */
  setModelsAnswer(answer: ModelsAnswer): void;
  /** Resolves with the next request the client aborts (or one already aborted and not yet awaited). */
  nextAbort(): Promise<RecordedRequest>;
  /** Lets every request waiting in a `hold` step go on. */
  release(): void;
  /**
   * `token` (after a chat request's n-th token was written: mid-stream hooks for tests), `chunk` (each
   * content chunk with its offsets and write time: the bench's token latency), `held`, `request`, `aborted`.
   */
  events: EventEmitter<FakeModelServerEvents>;
  close(): Promise<void>;
}

function tokenize(content: string, size: number): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < content.length; i += size) tokens.push(content.slice(i, i + size));
  return tokens;
}

function chunk(id: string, model: string, delta: Record<string, unknown>, finishReason: string | null): string {
  const body = {
    id,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function wantsJsonSchema(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const format = (body as { response_format?: { type?: unknown } }).response_format;
  return format?.type === "json_schema";
}

export async function startFakeModelServer(options: FakeModelServerOptions = {}): Promise<FakeModelServer> {
  let tokenRate = options.tokenRate ?? 0;
  let refuseJsonSchema = options.refuseJsonSchema ?? false;
  let modelsAnswer: ModelsAnswer = { kind: "list" };
  const tokenSize = options.tokenSize ?? 4;
  const defaultStep = options.defaultStep ?? { kind: "stream", content: JSON.stringify(CANNED_TODO_PLAN, null, 2) };
  const steps: ScriptStep[] = [];
  const requests: RecordedRequest[] = [];
  const unclaimedAborts: RecordedRequest[] = [];
  const events = new EventEmitter<FakeModelServerEvents>();
  let holds: (() => void)[] = [];
  /** A response's completion id, the same in every chunk even when a `hold` step streams it in two parts. */
  const responseIds = new WeakMap<ServerResponse, string>();
  let sequence = 0;
  /** While ends are held (holdEnds), answers that have written every token wait here before their end. */
  let endWaiters: Array<() => void> | null = null;
  let gate: { count: number; arrived: number; open: Array<() => void>; released: () => void } | null = null;

  /** Waits at the gate, if one is set; resolves with this answer's place among the released ones. */
  async function passGate(): Promise<{ slot: number; of: number }> {
    const g = gate;
    if (g === null) return { slot: 0, of: 1 };
    const slot = g.arrived++;
    if (g.arrived === g.count) {
      gate = null;
      for (const release of g.open) release();
      g.released();
    } else {
      await new Promise<void>((resolve) => g.open.push(resolve));
    }
    return { slot, of: g.count };
  }

  /**
   * The server's token pacing: one token per 1/tokenRate seconds of the server's output, on a schedule
   * (each token is due one interval after the previous one was due), so timer lateness does not add up
   * over a stream and 100 tokens/s stay 100 tokens/s on a busy machine. A stream more than one interval
   * behind (a long stall) starts a new schedule rather than bursting to catch up.
   */
  const clock = (): number => performance.timeOrigin + performance.now();
  const tokenPace = (due: number): Promise<number> => {
    if (tokenRate <= 0) return Promise.resolve(clock());
    const interval = 1000 / tokenRate;
    const now = clock();
    const next = due + interval < now - interval ? now : due + interval;
    return new Promise<number>((resolve) => {
      setTimeout(() => resolve(next), Math.max(0, next - now));
    });
  };

  async function streamTokens(
    res: ServerResponse,
    record: RecordedRequest,
    model: string,
    content: string,
    limit: number,
    from = 0,
  ): Promise<boolean> {
    let place = { slot: 0, of: 1 };
    if (!res.headersSent) {
      place = await passGate();
      if (record.aborted) return false;
      const first = `chatcmpl-${++sequence}`;
      responseIds.set(res, first);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(chunk(first, model, { role: "assistant", content: "" }, null));
    }
    const id = responseIds.get(res) ?? `chatcmpl-${sequence}`;
    const tokens = tokenize(content, tokenSize).slice(0, limit);
    let due = clock();
    if (place.slot > 0 && tokenRate > 0) {
      // Released together: this answer's first token comes slot/of of a token interval after the first one's.
      due += (place.slot * 1000) / tokenRate / place.of;
      await new Promise<void>((resolve) => {
        setTimeout(resolve, due - clock());
      });
    }
    let offset = tokens.slice(0, from).reduce((n, t) => n + t.length, 0);
    for (let i = from; i < tokens.length; i++) {
      if (record.aborted) return false;
      const token = tokens[i] ?? "";
      const frame = chunk(id, model, { content: token }, null);
      events.emit("chunk", record, { index: i, offset, end: offset + token.length, writtenAt: clock() });
      res.write(frame);
      offset += token.length;
      events.emit("token", record, i + 1);
      due = await tokenPace(due);
    }
    return !record.aborted;
  }

  /** The answer's end (finish_reason "stop", then [DONE]) — after releaseEnds() while ends are held. */
  async function finish(res: ServerResponse, model: string): Promise<void> {
    const waiting = endWaiters;
    if (waiting !== null)
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        res.once("close", () => resolve());
      });
    if (res.destroyed) return;
    res.write(chunk(responseIds.get(res) ?? `chatcmpl-${sequence}`, model, {}, "stop"));
    res.end("data: [DONE]\n\n");
  }

  async function chat(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<void> {
    const body = record.body as { model?: unknown } | undefined;
    const model = typeof body?.model === "string" ? body.model : "fake-model";
    if (refuseJsonSchema && wantsJsonSchema(record.body)) {
      sendJson(res, 400, {
        error: {
          message: "response_format json_schema is not supported by this server; use json_object",
          type: "invalid_request_error",
          param: "response_format",
          code: null,
        },
      });
      return;
    }
    const step = steps.shift() ?? defaultStep;
    switch (step.kind) {
      case "status":
        sendJson(
          res,
          step.status,
          { error: { message: step.message, type: step.type ?? "api_error", param: null, code: step.code ?? null } },
          step.headers,
        );
        return;
      case "stream":
        if (await streamTokens(res, record, model, step.content, Number.POSITIVE_INFINITY)) await finish(res, model);
        return;
      case "cut":
        if (await streamTokens(res, record, model, step.content, step.afterTokens)) {
          // Let the tokens reach the client (an SSE comment line is ignored by parsers), then drop the connection.
          await new Promise<void>((resolve) => {
            res.write(": cut\n\n", () => resolve());
          });
          req.socket.destroy();
        }
        return;
      case "stall":
        await streamTokens(res, record, model, step.content, step.afterTokens);
        return; // the response stays open until the client closes it (or the server shuts down)
      case "hold": {
        if (!(await streamTokens(res, record, model, step.content, step.afterTokens))) return;
        await new Promise<void>((resolve) => {
          holds.push(resolve);
          res.once("close", () => resolve());
          events.emit("held", record);
        });
        if (await streamTokens(res, record, model, step.content, Number.POSITIVE_INFINITY, step.afterTokens)) await finish(res, model);
        return;
      }
    }
  }

  async function listModels(res: ServerResponse, answer: ModelsAnswer): Promise<void> {
    switch (answer.kind) {
      case "list":
        sendJson(res, 200, {
          object: "list",
          data: (options.models ?? ["fake-model"]).map((id) => ({ id, object: "model", created: 0, owned_by: "genstream-tests" })),
        });
        return;
      case "status":
        sendJson(res, answer.status, { error: { message: answer.message, type: "api_error", param: null, code: null } }, answer.headers);
        return;
      case "stall":
        return; // the response stays open until the client closes it (or the server shuts down)
      case "wait":
        await answer.until;
        if (!res.destroyed) await listModels(res, answer.answer);
        return;
    }
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const record: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body,
        aborted: false,
        completed: false,
      };
      requests.push(record);
      res.on("finish", () => {
        record.completed = true;
      });
      res.on("close", () => {
        if (record.completed) return;
        record.aborted = true;
        unclaimedAborts.push(record);
        events.emit("aborted", record);
      });
      events.emit("request", record);
      const path = (req.url ?? "/").split("?")[0];
      if (req.method === "GET" && path === "/v1/models") {
        await listModels(res, modelsAnswer);
      } else if (req.method === "POST" && path === "/v1/chat/completions") {
        await chat(req, res, record);
      } else {
        sendJson(res, 404, { error: { message: `No route ${req.method ?? ""} ${path ?? ""}`, type: "invalid_request_error" } });
      }
    })().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: "server_error" } });
      else res.destroy();
    });
  });

  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://${options.host ?? "127.0.0.1"}:${port}/v1`,
    port,
    requests,
    events,
    script: (...next) => {
      steps.push(...next);
    },
    release: () => {
      const waiting = holds;
      holds = [];
      for (const resolve of waiting) resolve();
    },
    setTokenRate: (rate) => {
      tokenRate = rate;
    },
    setRefuseJsonSchema: (refuse) => {
      refuseJsonSchema = refuse;
    },
    holdStreams: (count) => {
      if (gate !== null) throw new Error("holdStreams: a hold is already in place");
      if (!(Number.isInteger(count) && count > 0)) throw new Error(`holdStreams: count must be a positive integer, not ${count}`);
      return new Promise<void>((resolve) => {
        gate = { count, arrived: 0, open: [], released: resolve };
      });
    },
    holdEnds: () => {
      endWaiters ??= [];
    },
    releaseEnds: () => {
      const waiting = endWaiters ?? [];
      endWaiters = null;
      for (const resolve of waiting) resolve();
    },
    setModelsAnswer: (answer) => {
      modelsAnswer = answer;
    },
    nextAbort: async () => {
      const already = unclaimedAborts.shift();
      if (already !== undefined) return already;
      const [record] = (await once(events, "aborted")) as [RecordedRequest];
      unclaimedAborts.splice(unclaimedAborts.indexOf(record), 1);
      return record;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(flag("--port") ?? "4010");
  const tokenRate = Number(flag("--token-rate") ?? "100");
  void startFakeModelServer({ port, tokenRate }).then((fake) => {
    process.stdout.write(
      `fake model server on ${fake.baseUrl} (token rate ${tokenRate}/s); LLM_BASE_URL=${fake.baseUrl} LLM_MODEL=fake-model\n`,
    );
    const stop = () => {
      void fake.close().then(() => process.exit(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
