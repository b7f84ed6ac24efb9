import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { StreamingService } from "../streaming/service";
import { matchMuxStreamPath, matchStreamPath } from "../streaming/route";
import { checkRequestBody, rejectBody } from "./body-limit";
import { applySecurityHeaders, parseRequestUrl, pinClientIp, rejectMalformedUrl } from "./request-guards";
import type { StreamSlots } from "./stream-limits";
import { matchStreamRpc, type StreamRpcHandler } from "./stream-rpc";

export interface RequestListenerDeps {
  streaming: StreamingService;
  slots: StreamSlots;
  log: Logger;
  trustProxy: boolean;
  /** stream.subscribe / stream.unsubscribe outside Next (src/server/stream-rpc.ts); without it they go to `fallback`. */
  streamRpc?: StreamRpcHandler;
  /** Everything that is not a stream: Next in server.ts, the tRPC fetch handler in tests. */
  fallback: (req: IncomingMessage, res: ServerResponse) => unknown;
}

/**
 * The app server's front door, before Next: security headers on every response, the client IP
 * pinned, malformed URLs and oversized bodies refused, the streams (per-project and multiplexed)
 * served from node:http, and so are their subscribe / unsubscribe calls (the multiplexed stream's handshake).
 * It never throws: a hostile request must not end the process.
 */
export function createRequestListener(deps: RequestListenerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      const url = parseRequestUrl(req.url);
      if (!url) {
        applySecurityHeaders(res, "/api/");
        rejectMalformedUrl(res);
        return;
      }
      applySecurityHeaders(res, url.pathname);
      pinClientIp(req, deps.trustProxy);
      const stream = req.method === "GET" ? matchStreamPath(url.pathname) : null;
      if (stream) {
        deps.slots.bind(req, res);
        void deps.streaming.handle(req, res, stream.projectId, url);
        return;
      }
      if (req.method === "GET" && matchMuxStreamPath(url.pathname)) {
        deps.slots.bind(req, res);
        void deps.streaming.handleMux(req, res);
        return;
      }
      const refused = checkRequestBody(req, url.pathname);
      if (refused) {
        deps.log.info(
          { path: url.pathname, status: refused.status, contentLength: req.headers["content-length"] ?? null },
          "request body refused",
        );
        rejectBody(res, url.pathname, refused);
        return;
      }
      const rpc = deps.streamRpc ? matchStreamRpc(req.method, url) : null;
      if (rpc && deps.streamRpc) {
        deps.streamRpc(req, res, rpc).catch((err: unknown) => failed(deps.log, res, err));
        return;
      }
      Promise.resolve(deps.fallback(req, res)).catch((err: unknown) => failed(deps.log, res, err));
    } catch (err) {
      failed(deps.log, res, err);
    }
  };
}

function failed(log: Logger, res: ServerResponse, err: unknown): void {
  log.error({ err }, "request failed");
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .writeHead(500, { "Content-Type": "application/json", Connection: "close" })
    .end(JSON.stringify({ code: "INTERNAL", message: "The request failed on the server" }));
}
