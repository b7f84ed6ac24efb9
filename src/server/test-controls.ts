import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { z } from "zod";
import type { StreamingService } from "../streaming/service";
import { faultReleaseSchema, faultSpecSchema, type FaultRegistry } from "./faults";
import { applySecurityHeaders, parseRequestUrl } from "./request-guards";
import { mayUseTestControls, type TestControlsGate } from "./test-controls-gate";
import { ID_PATTERN } from "../lib/ids";

/**
 * Test-only controls under /api/test/ (fault injection and stream controls for the end-to-end suite,
 * load for `npm run bench`). server.ts mounts them around the production request listener, and only
 * when GENSTREAM_TEST_CONTROLS=1, which no deployment sets; in production only with a per-run token
 * on a loopback address (see test-controls-gate.ts, which server.ts checks before anything else).
 */

/** One control: answers the request and returns true, or returns false for a path it does not serve. */
export type TestControl = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps the app's listener: a request for /api/test/* that may use the controls (gate open, the run's
 * token) goes to the first control that serves it, else gets the controls' 404; every other request,
 * and any /api/test/* request without the token, is the app's like any other path.
 */
export function withTestControls(listener: Listener, options: { gate: TestControlsGate; controls: TestControl[]; log: Logger }): Listener {
  return (req, res) => {
    const url = parseRequestUrl(req.url);
    if (!url || !url.pathname.startsWith("/api/test/") || !mayUseTestControls(options.gate, req.headers)) return listener(req, res);
    applySecurityHeaders(res, url.pathname);
    void serveControl(req, res, url, options.controls).catch((err: unknown) => {
      options.log.error({ err, path: url.pathname }, "test control failed");
      if (res.headersSent) res.destroy();
      else json(res, 500, { error: "test control failed" });
    });
  };
}

async function serveControl(req: IncomingMessage, res: ServerResponse, url: URL, controls: TestControl[]): Promise<void> {
  for (const control of controls) if (await control(req, res, url)) return;
  json(res, 404, { error: "unknown test control" });
}

/** `/api/test/projects/<projectId>/<action>`, the project id by the one id rule (src/lib/ids.ts). */
export function projectControlPath(action: string): RegExp {
  return new RegExp(`^/api/test/projects/(${ID_PATTERN.source.slice(1, -1)})/${action}$`);
}

const CLOSE_STREAMS = projectControlPath("close-streams");
const READ_LOG = projectControlPath("log");

/**
 * The end-to-end suite's controls:
 * - `GET /api/test/projects/:id/log`: every event the project's log retains;
 * - `POST /api/test/projects/:id/close-streams`: closes the project's streams here, as a server
 *   shutting down does (`close` reason server-shutdown), so clients resume from their last id;
 * - `POST /api/test/faults` `{ projectId, step, kind: "fail-once" | "hold", at? }` registers a fault
 *   (see faults.ts); `POST /api/test/faults/release` `{ projectId, step? }` releases holds.
 */
export function streamTestControls(deps: { streaming: StreamingService; faults: FaultRegistry; log: Logger }): TestControl {
  return async (req, res, url) => {
    if (req.method === "POST" && url.pathname === "/api/test/faults") {
      const spec = faultSpecSchema.safeParse(await readJson(req));
      if (!spec.success) json(res, 400, { error: z.prettifyError(spec.error) });
      else json(res, 200, { id: deps.faults.add(spec.data) });
      return true;
    }
    if (req.method === "POST" && url.pathname === "/api/test/faults/release") {
      const input = faultReleaseSchema.safeParse(await readJson(req));
      if (!input.success) json(res, 400, { error: z.prettifyError(input.error) });
      else json(res, 200, { released: deps.faults.release(input.data.projectId, input.data.step) });
      return true;
    }
    const logMatch = req.method === "GET" ? READ_LOG.exec(url.pathname) : null;
    if (logMatch?.[1]) {
      json(res, 200, { events: await deps.streaming.retained(logMatch[1]) });
      return true;
    }
    const closeMatch = req.method === "POST" ? CLOSE_STREAMS.exec(url.pathname) : null;
    if (closeMatch?.[1]) {
      const closed = deps.streaming.closeProject(closeMatch[1], "server-shutdown");
      deps.log.warn({ projectId: closeMatch[1], closed }, "test control closed streams");
      json(res, 200, { closed });
      return true;
    }
    return false;
  };
}

export function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

/** The request's JSON body, or null when it is not JSON (the control's schema then refuses it). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return null;
  }
}
