import type { IncomingMessage, ServerResponse } from "node:http";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import type { Context } from "./context";
import { streamRouter } from "./routers/stream";
import type { StreamUser } from "./stream-authorizer";
import { createTRPCRouter } from "./trpc";

/**
 * `stream.subscribe` and `stream.unsubscribe` served from node:http, like the streams themselves,
 * instead of through Next's route: a subscribe is the multiplexed stream's handshake (one per
 * project of every opened connection), and Next's request handling (web Request/Response, its
 * router, a session query per call) cost ~10x the bare subscribe (bench/README.md). Same procedures
 * (projectProcedure: the caller owns the project), same tRPC wire format (this adapter resolves the
 * same router code, transformer and error formatter); only the session and the project's owner
 * come from the stream authorizer's caches (src/server/stream-authorizer.ts), as for opening a stream. Batched calls
 * (`?batch=1`) and every other procedure still go to Next.
 */
const rpcRouter = createTRPCRouter({ stream: streamRouter });

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
  return (req, res, path) =>
    nodeHTTPRequestHandler({
      req,
      res,
      path,
      router: rpcRouter,
      createContext: async ({ req: request }): Promise<Context> => ({
        ...deps.context,
        user: await deps.sessionUser(request),
        projectOwner: deps.projectOwner,
      }),
    });
}
