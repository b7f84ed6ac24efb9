import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { log } from "../../src/lib/process-log";
import type { HealthView, RunFilter } from "./executor";
import { parseIngestBody, type IngestEvent } from "./ingest-schema";
import { registerBodySchema } from "./sync";
import type { RunView, SyncResult } from "./types";

/** What the HTTP layer needs from the executor. */
export interface ExecutorHttpApi {
  ingest(events: IngestEvent[]): string[];
  /** Resolves once the events are stored: only then are they acknowledged. */
  accepted(ids: string[]): Promise<void>;
  register(appId: string, functions: unknown[]): SyncResult;
  listRuns(filter: RunFilter): RunView[];
  getRun(runId: string): RunView | undefined;
  cancelRun(runId: string): boolean;
  health(): HealthView;
}

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

async function route(api: ExecutorHttpApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://executor.local");
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? "GET";
  const [a, b, c, d] = parts;

  if (method === "GET" && parts.length === 1 && a === "health") return send(res, 200, api.health());

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

  if (a === "v1" && b === "runs" && parts.length === 2 && method === "GET") {
    const filter = runFilterSchema.safeParse(Object.fromEntries(url.searchParams));
    if (!filter.success) throw new HttpError(400, `invalid query: ${z.prettifyError(filter.error)}`);
    return send(res, 200, { data: api.listRuns(filter.data) });
  }

  if (a === "v1" && b === "runs" && c && parts.length === 3) {
    if (method === "GET") {
      const run = api.getRun(c);
      return run ? send(res, 200, { data: run }) : send(res, 404, { error: `no run ${c}` });
    }
    if (method === "DELETE") {
      return api.cancelRun(c) ? send(res, 200, { data: api.getRun(c) }) : send(res, 404, { error: `no active run ${c}` });
    }
    throw new HttpError(405, "use GET or DELETE");
  }

  if (a === "v1" && b === "events" && c && d === "runs" && parts.length === 4 && method === "GET") {
    return send(res, 200, { data: api.listRuns({ eventId: c }) });
  }

  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

/** The executor's HTTP face, where the Inngest dev server would listen. */
export function createExecutorServer(api: ExecutorHttpApi): Server {
  return createServer((req, res) => {
    route(api, req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, { status: err.status, error: err.message });
      log.error({ err, url: req.url }, "executor request failed");
      send(res, 500, { status: 500, error: err instanceof Error ? err.message : String(err) });
    });
  });
}

export async function listenExecutorServer(api: ExecutorHttpApi, port: number, host: string): Promise<{ server: Server; url: string }> {
  const server = createExecutorServer(api);
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
