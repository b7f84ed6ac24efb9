import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { generate, parsePublishRequest } from "./load";

/**
 * The baseline: a bare node:http SSE server, the physical limit of this runtime. It registers each
 * connection under its project and, on broadcast, serialises the event once and writes that Buffer to
 * every connection. Same URLs, headers and frame format as Genstream's stream; no validation, no log,
 * no authorisation, no logging. Run: `node --import tsx bench/baseline/server.ts` with PORT.
 *
 * The multiplexed stream likewise: `GET /api/stream` answers `connected {connectionId}`;
 * `POST /api/trpc/stream.subscribe` `{json: {connectionId, projectId}}` adds that response to the
 * project's set, writes `ready {projectId, cursor}` on it and answers the mutation (no session, no
 * replay: the physical limit of "one more project on an open response").
 */
const STREAM = /^\/api\/projects\/([A-Za-z0-9_-]{1,64})\/events$/;
const PUBLISH = /^\/api\/test\/projects\/([A-Za-z0-9_-]{1,64})\/publish$/;

const projects = new Map<string, Set<ServerResponse>>();
const muxConnections = new Map<string, ServerResponse>();
const muxSubscriptions = new Map<ServerResponse, Set<string>>();
const SUBSCRIBE = "/api/trpc/stream.subscribe";
const epoch = randomBytes(9).toString("base64url");
let seq = 0;

/** The stream headers, as the app sends them (src/streaming/request.ts), written bare. */
function sseHead(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
    Connection: "keep-alive",
  });
  req.socket.setNoDelay(true);
}

function openStream(req: IncomingMessage, res: ServerResponse, projectId: string): void {
  sseHead(req, res);
  let set = projects.get(projectId);
  if (!set) projects.set(projectId, (set = new Set()));
  set.add(res);
  const cursor = `${epoch}:${seq}`;
  res.write(`retry: 1000\n\nid: ${cursor}\nevent: ready\ndata: ${JSON.stringify({ connectionId: randomUUID(), cursor })}\n\n`);
  res.once("close", () => {
    set.delete(res);
    if (set.size === 0) projects.delete(projectId);
  });
}

function openMux(req: IncomingMessage, res: ServerResponse): void {
  sseHead(req, res);
  const connectionId = randomUUID();
  const subscribed = new Set<string>();
  muxConnections.set(connectionId, res);
  muxSubscriptions.set(res, subscribed);
  res.write(`retry: 1000\n\nevent: connected\ndata: ${JSON.stringify({ connectionId })}\n\n`);
  res.once("close", () => {
    muxConnections.delete(connectionId);
    muxSubscriptions.delete(res);
    for (const projectId of subscribed) {
      const set = projects.get(projectId);
      set?.delete(res);
      if (set?.size === 0) projects.delete(projectId);
    }
  });
}

async function subscribe(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let input: { connectionId?: unknown; projectId?: unknown } = {};
  try {
    input = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { json?: typeof input }).json ?? {};
  } catch {
    // answered below
  }
  const { connectionId, projectId } = input;
  const stream = typeof connectionId === "string" ? muxConnections.get(connectionId) : undefined;
  if (!stream || typeof projectId !== "string") {
    res.writeHead(404, { "Content-Type": "application/json" }).end("{}");
    return;
  }
  let set = projects.get(projectId);
  if (!set) projects.set(projectId, (set = new Set()));
  set.add(stream);
  muxSubscriptions.get(stream)?.add(projectId);
  const cursor = `${epoch}:${seq}`;
  stream.write(`event: ready\ndata: ${JSON.stringify({ projectId, cursor })}\n\n`);
  res
    .writeHead(200, { "Content-Type": "application/json" })
    .end(JSON.stringify({ result: { data: { json: { projectId, cursor, reset: false, replayed: 0 } } } }));
}

function broadcast(projectId: string, key: string, event: Record<string, unknown>): void {
  const id = `${epoch}:${++seq}`;
  const frame = Buffer.from(`id: ${id}\nevent: ${String(event.type)}\ndata: ${JSON.stringify({ id, key, event })}\n\n`);
  for (const res of projects.get(projectId) ?? []) res.write(frame);
}

async function publish(req: IncomingMessage, res: ServerResponse, projectId: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body: unknown = null;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    // answered below
  }
  const request = parsePublishRequest(body);
  if (!request) {
    res.writeHead(400).end();
    return;
  }
  const partial = request.payloadBytes > 0 ? { partial: "x".repeat(request.payloadBytes) } : {};
  const result = await generate(request, (i, stamp) =>
    broadcast(projectId, `bench:${request.tag}:${i}`, {
      type: "step.progress",
      projectId,
      runId: `bench-${request.tag}`,
      messageId: `bench-${request.tag}`,
      at: Math.floor(stamp),
      step: "plan",
      message: `bench|${request.tag}|${i}|${stamp.toFixed(3)}`,
      ...partial,
    }),
  );
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(result));
}

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const stream = req.method === "GET" ? STREAM.exec(path) : null;
  if (stream?.[1]) return openStream(req, res, stream[1]);
  if (req.method === "GET" && path === "/api/stream") return openMux(req, res);
  if (req.method === "POST" && path === SUBSCRIBE) return void subscribe(req, res);
  const trigger = req.method === "POST" ? PUBLISH.exec(path) : null;
  if (trigger?.[1]) return void publish(req, res, trigger[1]);
  res.writeHead(404).end();
});
server.requestTimeout = 0;
server.keepAliveTimeout = 65_000;

const port = Number(process.env.PORT ?? 0);
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  process.stdout.write(`${JSON.stringify({ msg: "server listening", port: bound, pid: process.pid })}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
