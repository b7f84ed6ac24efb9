import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import { freePort } from "./ports";

/** Picks the upstream (`http://host:port`) for one request, e.g. by path, or "the live instance". */
export type Route = (req: IncomingMessage) => string;

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

function isStream(req: IncomingMessage): boolean {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  return req.method === "GET" && (path === "/api/stream" || /^\/api\/projects\/[^/]+\/events$/.test(path));
}

/**
 * A tiny HTTP load balancer in front of several app instances: one public origin (cookies, auth
 * origin) and a route the test switches. Responses are piped as they arrive, so SSE streams pass
 * through unbuffered; when an upstream dies mid-response, the client's connection is cut too, as a
 * real balancer would. An unreachable upstream answers 502.
 */
export class LoadBalancer {
  private readonly sockets = new Set<Socket>();
  private offline = false;
  /** Requests per upstream, so a test can show which instance served what. */
  readonly served = new Map<string, number>();
  /** Every request that came through, in order (`GET /api/stream`), so a test can count what the browser asked for. */
  readonly requests: string[] = [];
  /** Stream responses (`/api/stream`, `/api/projects/:id/events`): open now, the most open at once, and all so far. */
  readonly streams = { open: 0, maxOpen: 0, total: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private route: Route,
  ) {
    server.on("connection", (socket: Socket) => {
      // The network is down: the connection fails before any answer, as an unreachable host's would.
      if (this.offline) return socket.destroy();
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.forward(req, res));
  }

  static async start(route: Route): Promise<LoadBalancer> {
    const port = await freePort();
    const server = createServer();
    server.requestTimeout = 0;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return new LoadBalancer(server, port, route);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Routes every request from now on; connections already open stay where they are. */
  setRoute(route: Route): void {
    this.route = route;
  }

  /**
   * The network between the browser and the app goes down (every open connection dies, new ones
   * fail) or comes back. Unlike Playwright's offline emulation it reaches a SharedWorker's requests too.
   */
  setOffline(offline: boolean): void {
    this.offline = offline;
    if (offline) for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(this.route(req));
    this.requests.push(`${req.method ?? "GET"} ${req.url ?? "/"}`);
    if (isStream(req)) {
      this.streams.total += 1;
      this.streams.open += 1;
      this.streams.maxOpen = Math.max(this.streams.maxOpen, this.streams.open);
      res.once("close", () => (this.streams.open -= 1));
    }
    this.served.set(target.origin, (this.served.get(target.origin) ?? 0) + 1);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent: false },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEnd(upstreamRes.headers));
        res.flushHeaders();
        upstreamRes.pipe(res);
        // The instance died (or cut the stream) mid-response: the client must see its connection drop.
        upstreamRes.once("aborted", () => res.destroy());
        upstreamRes.once("error", () => res.destroy());
      },
    );
    upstream.once("error", (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" }).end(`upstream ${target.origin} unreachable: ${err.message}`);
      } else {
        res.destroy();
      }
    });
    // The client left: release the upstream connection (e.g. a stream the browser closed).
    res.once("close", () => upstream.destroy());
    req.pipe(upstream);
  }
}
