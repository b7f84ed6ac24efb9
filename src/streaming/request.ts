import type { IncomingMessage, ServerResponse } from "node:http";
import { cursorSchema, type Cursor } from "./protocol";

export type RequestedCursor = { kind: "cursor"; cursor: Cursor | undefined } | { kind: "malformed"; raw: string };

/**
 * The resume position: `Last-Event-ID` wins because the browser sets it on its own reconnect,
 * when the URL's `?cursor=` is still the one from the first page load. Empty means "from head".
 */
export function cursorFromRequest(req: IncomingMessage, url?: URL): RequestedCursor {
  const header = req.headers["last-event-id"];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  // The request listener has parsed the URL already (passed in); parsed here only when it was not.
  const query = url ?? (req.url?.includes("?") ? new URL(req.url, "http://localhost") : null);
  const raw = fromHeader || query?.searchParams.get("cursor") || "";
  if (raw === "") return { kind: "cursor", cursor: undefined };
  const parsed = cursorSchema.safeParse(raw);
  return parsed.success ? { kind: "cursor", cursor: parsed.data } : { kind: "malformed", raw };
}

/**
 * Status and headers of a stream. Nothing is written yet: they leave with the first frame (the retry
 * hint, written by the service as soon as it knows the answer), so on the common path the headers,
 * `retry:` and `ready` share one write — the handshake costs the socket one syscall, as in the bare
 * node:http baseline. A slow authorization (a session query) delays the headers by that long.
 */
export function startStreamResponse(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    // Without no-transform, `next start` gzips the stream and buffers it.
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
    Connection: "keep-alive",
  });
  req.socket.setNoDelay(true);
}
