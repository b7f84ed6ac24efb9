import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { incomingMessageToRequest } from "@trpc/server/adapters/node-http";
import { appRouter } from "../server/root";
import type { Context } from "../server/context";

/**
 * What Next's /api/trpc route does, on plain node:http: the fetch adapter with a context from the
 * request's headers. Tests put it behind the app's real request listener.
 */
export function trpcNodeHandler(createContext: (headers: Headers) => Promise<Context>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const request = incomingMessageToRequest(req, res, { maxBodySize: null });
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: request,
      router: appRouter,
      createContext: () => createContext(request.headers),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) {
      res.end();
      return;
    }
    Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>).pipe(res);
  };
}
