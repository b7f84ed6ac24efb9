import type { IncomingMessage, ServerResponse } from "node:http";
import { getErrorShape, getTRPCErrorFromUnknown, TRPCError } from "@trpc/server";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import superjson from "superjson";
import type { Context } from "./context";
import { streamRouter } from "./routers/stream";
import type { StreamUser } from "./stream-authorizer";
import { createCallerFactory, createTRPCRouter } from "./trpc";

/**
 * `stream.subscribe` and `stream.unsubscribe` served from node:http, like the streams themselves,
 * instead of through Next's route: a subscribe is the multiplexed stream's handshake (one per
 * project of every opened connection), and Next's request handling (web Request/Response, its
 * router, a session query per call) cost ~10x the bare subscribe (bench/README.md). Same procedures
 * (projectProcedure: the caller owns the project), same tRPC wire format (this adapter resolves the
 * same router code, transformer and error formatter); only the session and the project's owner
 * come from the stream authorizer's caches (src/server/stream-authorizer.ts), as for opening a stream. Batched calls
 * (`?batch=1`) and every other procedure still go to Next.
 *
 * The common call (a JSON body, no streaming accept header) is answered without tRPC's web
 * Request/Response adapter, whose conversions cost more than the subscribe itself: the procedure
 * runs through a caller (same middlewares, input parsing and errors) and the answer is the envelope
 * tRPC's resolveResponse writes (`{result: {data}}` / `{error}` with tRPC's error shape, formatter
 * and status; stream-rpc.test.ts compares both paths byte for byte). Anything else takes the adapter.
 */
const rpcRouter = createTRPCRouter({ stream: streamRouter });
const createCaller = createCallerFactory(rpcRouter);
const RESPONSE_HEADERS = { "Content-Type": "application/json", Vary: "trpc-accept, accept" };

const PREFIX = "/api/trpc/";
const PATHS = new Set(["stream.subscribe", "stream.unsubscribe"]);

/** The procedure path when the request is an unbatched stream.subscribe / stream.unsubscribe, else null. */
export function matchStreamRpc(method: string | undefined, url: URL): string | null {
  if (method !== "POST" || !url.pathname.startsWith(PREFIX) || url.search !== "") return null;
  const path = url.pathname.slice(PREFIX.length);
  return PATHS.has(path) ? path : null;
}

export interface StreamRpcDeps {
  /** The context of every call, without its user. */
  context: Omit<Context, "user">;
  /** The caller from the session cookie (cached like a stream's session), null without a session. */
  sessionUser: (req: IncomingMessage) => Promise<StreamUser | null>;
  /** Project owners, cached (the stream authorizer's owner cache). */
  projectOwner: (projectId: string) => Promise<string | null>;
}

export type StreamRpcHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;

export function createStreamRpcHandler(deps: StreamRpcDeps): StreamRpcHandler {
  const viaAdapter: StreamRpcHandler = (req, res, path) =>
    nodeHTTPRequestHandler({
      req,
      res,
      path,
      router: rpcRouter,
      createContext: ({ req: request }) => contextOf(request),
    });
  const contextOf = async (req: IncomingMessage): Promise<Context> => ({
    ...deps.context,
    user: await deps.sessionUser(req),
    projectOwner: deps.projectOwner,
  });
  return async (req, res, path) => {
    const type = req.headers["content-type"] ?? "";
    if (!/^application\/json(;|$)/i.test(type) || req.headers["trpc-accept"] !== undefined) return viaAdapter(req, res, path);
    let input: unknown;
    let ctx: Context | undefined;
    try {
      input = parseInput(await readBody(req));
      ctx = await contextOf(req);
      const caller = createCaller(ctx).stream;
      const data = path === "stream.subscribe" ? await caller.subscribe(input as never) : await caller.unsubscribe(input as never);
      answer(res, 200, { result: { data: isPlainRecord(data) ? { json: data } : superjson.serialize(data) } });
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      const shape = getErrorShape({ config: rpcRouter._def._config, error, type: "mutation", path, input, ctx });
      answer(res, getHTTPStatusCodeFromError(error), { error: superjson.serialize(shape) });
    }
  };
}

/** What tRPC reads from a JSON body: the transformer's input (an empty or broken body is a BAD_REQUEST, as there). */
function parseInput(body: string): unknown {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new TRPCError({ code: "BAD_REQUEST", message: cause instanceof Error ? cause.message : "Invalid input", cause });
  }
  return superjson.deserialize(raw as Parameters<typeof superjson.deserialize>[0]);
}

/**
 * What superjson.serialize makes `{ json: value }` of, without its walk: an object of strings,
 * finite numbers, booleans and nulls (the stream procedures' answers). Anything else goes through superjson.
 */
function isPlainRecord(value: unknown): value is Record<string, string | number | boolean | null> {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const v of Object.values(value)) {
    if (
      v !== null &&
      typeof v !== "string" &&
      typeof v !== "boolean" &&
      !(typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0))
    )
      return false;
  }
  return true;
}

/** The body, at most Content-Length bytes (the request listener refused anything larger or unbounded). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)).toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) reject(new Error("the request ended before its body"));
    });
  });
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, RESPONSE_HEADERS).end(JSON.stringify(body));
}
