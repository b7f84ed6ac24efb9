import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { limitMessages, limits } from "./limits";

/** The largest body a path accepts: the Inngest endpoint carries step outputs, everything else is small. */
export function bodyLimitFor(pathname: string): number {
  return pathname === "/api/inngest" || pathname.startsWith("/api/inngest/")
    ? limits.inngestRequestBodyMaxBytes
    : limits.requestBodyMaxBytes;
}

export interface BodyRejection {
  status: 411 | 413;
  code: "LENGTH_REQUIRED" | "PAYLOAD_TOO_LARGE";
  message: string;
}

/**
 * Decides from the headers alone, before a byte of the body is read. Node's parser never delivers
 * more than Content-Length bytes as this request's body, so the header is a safe bound; a body
 * without one (chunked) has no bound to check and is refused (411): the app's clients never send it.
 */
export function checkRequestBody(req: Pick<IncomingMessage, "headers">, pathname: string): BodyRejection | null {
  const max = bodyLimitFor(pathname);
  const length = req.headers["content-length"];
  if (length !== undefined) {
    const bytes = Number(length);
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > max)
      return { status: 413, code: "PAYLOAD_TOO_LARGE", message: limitMessages.bodyTooLarge(max) };
    return null;
  }
  if (req.headers["transfer-encoding"] !== undefined) {
    return { status: 411, code: "LENGTH_REQUIRED", message: "A request body needs a Content-Length header." };
  }
  return null;
}

/**
 * Answers the rejection and closes the connection (the unread body must not be parsed as the next
 * request). tRPC calls get a tRPC error envelope (superjson), so the UI shows the message as for any
 * other error; other paths get `{ code, message }`.
 */
export function rejectBody(res: ServerResponse, pathname: string, rejection: BodyRejection): void {
  const body = pathname.startsWith("/api/trpc")
    ? {
        error: {
          json: {
            message: rejection.message,
            code: TRPC_ERROR_CODES_BY_KEY.PAYLOAD_TOO_LARGE,
            data: { code: "PAYLOAD_TOO_LARGE", httpStatus: rejection.status, zodError: null },
          },
        },
      }
    : { code: rejection.code, message: rejection.message };
  res.writeHead(rejection.status, { "Content-Type": "application/json", Connection: "close" }).end(JSON.stringify(body));
}
