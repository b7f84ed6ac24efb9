import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { log } from "../../src/lib/process-log";
import { AccessGuard, type DashboardDecision } from "./dashboard/access";
import type { DashboardApi } from "./dashboard/api";
import { DashboardHttp } from "./dashboard/http";
import { parseIngestBody } from "./ingest-schema";
import { listEventsQuerySchema, selectEvents, toInngestEvent, toInngestRun, ulidParam } from "./rest/inngest-shapes";
import { registerBodySchema } from "./sync";
import type { SyncResult } from "./types";

/** What the HTTP layer needs from the executor. */
export interface ExecutorHttpApi extends DashboardApi {
  /** Resolves once the events are stored: only then are they acknowledged. */
  accepted(ids: string[]): Promise<void>;
  register(appId: string, functions: unknown[]): SyncResult;
}

export interface ExecutorHttpOptions {
  /** The executor's signing key: /v1/* and the dashboard then require it (see dashboard/access.ts). */
  signingKey?: string;
  /** Without a signing key: the development token the app shares (GENSTREAM_ENGINE_TOKEN) to read progress events. */
  engineToken?: string;
  /** Whether to serve the dashboard; default off (the CLI decides, inngest/local/main.ts). */
  dashboard?: DashboardDecision;
}

const DASHBOARD_NOT_ENABLED: DashboardDecision = { on: false, reason: "not enabled for this executor" };

const MAX_BODY_BYTES = 10 * 1024 * 1024;

const runFilterSchema = z.strictObject({
  functionId: z.string().min(1).optional(),
  status: z.enum(["Queued", "Running", "Completed", "Failed", "Cancelled"]).optional(),
  eventId: z.string().min(1).optional(),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, `body is not valid JSON${text === "" ? " (empty body)" : ""}`);
  }
}

interface Router {
  api: ExecutorHttpApi;
  guard: AccessGuard;
  dashboard: DashboardHttp;
}

function parseId(raw: string, what: string): string {
  const id = ulidParam.safeParse(raw);
  if (!id.success) throw new HttpError(400, `invalid ${what} id "${raw}": ${id.error.issues[0]?.message ?? "not a ULID"}`);
  return id.data;
}

async function route({ api, guard, dashboard }: Router, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://executor.local");
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? "GET";
  const [a, b, c, d] = parts;

  if (method === "GET" && parts.length === 1 && a === "health") return send(res, 200, api.health());
  if (await dashboard.handle(req, res, url)) return;
  // Inngest's REST API authenticates with the signing key as a bearer token; so does this one when it has a key.
  if (a === "v1" && !guard.allows(req)) throw new HttpError(401, "send the signing key: Authorization: Bearer <INNGEST_SIGNING_KEY>");

  if (a === "e" && parts.length === 2) {
    if (method !== "POST") throw new HttpError(405, "use POST to send events");
    const parsed = parseIngestBody(await readJson(req));
    // The SDK throws unless the reply carries `status`; it shows `error` to the caller.
    if (!parsed.ok) return send(res, 400, { ids: [], status: 400, error: `invalid event: ${parsed.error}` });
    const ids = api.ingest(parsed.events);
    await api.accepted(ids);
    return send(res, 200, { ids, status: 200 });
  }

  if (a === "fn" && b === "register" && parts.length === 2) {
    if (method !== "POST") throw new HttpError(405, "use POST to register");
    const body = registerBodySchema.safeParse(await readJson(req));
    if (!body.success) return send(res, 400, { status: 400, error: `invalid registration: ${z.prettifyError(body.error)}` });
    const result = api.register(body.data.appName, body.data.functions);
    if (!result.ok) return send(res, 400, { status: 400, modified: true, error: result.error ?? "sync refused" });
    return send(res, 200, { status: 200, modified: true, skipped: false, error: "Successfully registered" });
  }

  // Genstream's own list (not an Inngest endpoint): every run the executor holds, newest first, as RunView.
  if (a === "v1" && b === "runs" && parts.length === 2 && method === "GET") {
    const filter = runFilterSchema.safeParse(Object.fromEntries(url.searchParams));
    if (!filter.success) throw new HttpError(400, `invalid query: ${z.prettifyError(filter.error)}`);
    return send(res, 200, { data: api.listRuns(filter.data) });
  }

  if (a === "v1" && b === "runs" && c && parts.length === 3) {
    if (method !== "GET" && method !== "DELETE") throw new HttpError(405, "use GET or DELETE");
    const runId = parseId(c, "run");
    const run = api.getRun(runId);
    if (!run) throw new HttpError(404, `no run ${runId}`);
    if (method === "GET") return send(res, 200, { data: toInngestRun(run) });
    if (!api.cancelRun(runId)) throw new HttpError(409, `run ${runId} has already ended (${toInngestRun(run).status})`);
    log.info({ runId, functionId: run.functionId }, "run cancelled through the REST API");
    // Cancelling stops the run at its next step boundary; the answer is the run as it is now.
    return send(res, 200, { data: toInngestRun(api.getRun(runId) ?? run) });
  }

  if (a === "v1" && b === "events" && parts.length === 2 && method === "GET") {
    const query = listEventsQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) throw new HttpError(400, `invalid query: ${z.prettifyError(query.error)}`);
    return send(res, 200, { data: selectEvents(api.listEvents(), query.data).map(toInngestEvent) });
  }

  if (a === "v1" && b === "events" && c && parts.length === 3 && method === "GET") {
    const eventId = parseId(c, "event");
    const received = api.getEvent(eventId);
    if (!received) throw new HttpError(404, `no event ${eventId}`);
    return send(res, 200, { data: toInngestEvent(received) });
  }

  if (a === "v1" && b === "events" && c && d === "runs" && parts.length === 4 && method === "GET") {
    const eventId = parseId(c, "event");
    if (!api.getEvent(eventId)) throw new HttpError(404, `no event ${eventId}`);
    // Oldest first, as the event started them.
    return send(res, 200, { data: api.listRuns({ eventId }).reverse().map(toInngestRun) });
  }

  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

/** The executor's HTTP face, where the Inngest dev server would listen. */
export function createExecutorServer(api: ExecutorHttpApi, options: ExecutorHttpOptions = {}): Server {
  const guard = new AccessGuard(options.signingKey);
  const dashboard = new DashboardHttp(
    api,
    options.dashboard ?? DASHBOARD_NOT_ENABLED,
    guard,
    { send, readJson },
    options.signingKey ?? options.engineToken,
  );
  const server = createServer((req, res) => {
    route({ api, guard, dashboard }, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        log.error({ err, url: req.url }, "executor request failed after its answer began");
        res.destroy();
        return;
      }
      if (err instanceof HttpError) return send(res, err.status, { status: err.status, error: err.message });
      if (err instanceof URIError) return send(res, 400, { status: 400, error: `malformed URL: ${err.message}` });
      log.error({ err, url: req.url }, "executor request failed");
      send(res, 500, { status: 500, error: err instanceof Error ? err.message : String(err) });
    });
  });
  // Open dashboard streams must not hold up server.close().
  server.on("close", () => dashboard.close());
  return server;
}

export async function listenExecutorServer(
  api: ExecutorHttpApi,
  port: number,
  host: string,
  options: ExecutorHttpOptions = {},
): Promise<{ server: Server; url: string }> {
  const server = createExecutorServer(api, options);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { server, url: `http://${shownHost}:${address.port}` };
}
