/**
 * Test-only helpers for the streaming suites: a pino logger whose lines can be awaited, a real
 * `node:http` server on port 0 running `service.handle`, and a raw SSE client. Everything waits on
 * events (a log line, a frame, the response end), never on time.
 */
import { once } from "node:events";
import http, { type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { MemoryEventLog } from "./memory-log";
import { connectedFrameSchema, readyFrameSchema, type LoggedEvent, type ProgressEvent } from "./protocol";
import { matchMuxStreamPath, matchStreamPath, muxStreamPath, streamPath } from "./route";
import { StreamingService, type StreamingServiceOptions } from "./service";
import { SseParser, type SseFrame } from "./sse-parser";
import type { EventLog, MultiplexAccess } from "./types";

export type LogLine = { level: number; msg: string } & Record<string, unknown>;

interface Waiter<T> {
  match: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (err: Error) => void;
  label: string;
}

export class CapturedLog {
  readonly lines: LogLine[] = [];
  readonly logger: Logger;
  private waiters: Waiter<LogLine>[] = [];

  constructor() {
    this.logger = pino({ level: "debug" }, { write: (chunk: string) => this.add(chunk) });
  }

  /** Resolves with the first line (already logged or future) matching. */
  waitFor(match: (line: LogLine) => boolean, label = "log line"): Promise<LogLine> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject, label }));
  }

  with(msg: string, fields: Record<string, unknown> = {}): LogLine[] {
    return this.lines.filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
  }

  private add(chunk: string): void {
    for (const text of chunk.split("\n")) {
      if (text.trim() === "") continue;
      const line = JSON.parse(text) as LogLine;
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    }
  }
}

export interface TestServer {
  url(projectId: string, cursor?: string): string;
  /** The multiplexed stream's URL. */
  muxUrl(): string;
  close(): Promise<void>;
}

export async function startServer(service: StreamingService): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    if (matchMuxStreamPath(pathname)) {
      void service.handleMux(req, res);
      return;
    }
    const match = matchStreamPath(pathname);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    void service.handle(req, res, match.projectId);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: (projectId, cursor) => `http://127.0.0.1:${port}${streamPath(projectId, cursor)}`,
    muxUrl: () => `http://127.0.0.1:${port}${muxStreamPath()}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** A raw SSE client over `http.get`, keeping both the parsed frames and the exact bytes. */
export class StreamClient {
  readonly frames: SseFrame[] = [];
  readonly chunks: Buffer[] = [];
  /** Resolves when the response ends or the connection drops. */
  readonly ended: Promise<void>;
  private readonly parser = new SseParser();
  private waiters: Waiter<SseFrame>[] = [];
  private done = false;

  private constructor(readonly res: IncomingMessage) {
    this.ended = new Promise((resolve) => {
      res.once("close", () => {
        this.done = true;
        for (const w of this.waiters) w.reject(new Error(`stream ended before ${w.label}; got ${this.describe()}`));
        this.waiters = [];
        resolve();
      });
    });
    res.on("error", () => {}); // a server-side destroy surfaces as "aborted"; `ended` reports it
    res.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      for (const frame of this.parser.push(chunk)) {
        this.frames.push(frame);
        this.waiters = this.waiters.filter((w) => (w.match(frame) ? (w.resolve(frame), false) : true));
      }
    });
  }

  static open(url: string, headers: OutgoingHttpHeaders = {}): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers: { Accept: "text/event-stream", ...headers }, agent: false }, (res) =>
        resolve(new StreamClient(res)),
      );
      req.on("error", reject);
    });
  }

  get status(): number | undefined {
    return this.res.statusCode;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves with the first frame (already received or future) matching; rejects if the stream ends first. */
  waitFor(match: (frame: SseFrame) => boolean, label = "frame"): Promise<SseFrame> {
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found);
    if (this.done) return Promise.reject(new Error(`stream ended before ${label}; got ${this.describe()}`));
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject, label }));
  }

  waitForEvent(event: string): Promise<SseFrame> {
    return this.waitFor((f) => f.event === event, `event ${event}`);
  }

  waitForId(id: string): Promise<SseFrame> {
    return this.waitFor((f) => f.id === id, `id ${id}`);
  }

  /** Frames other than keep-alives, as `event` or `event#id`, for order assertions. */
  sequence(): string[] {
    return this.frames.filter((f) => f.event !== "ping").map((f) => (f.id && f.event !== "ready" ? `${f.event}#${f.id}` : f.event));
  }

  /** Stops reading: the server's socket buffer fills up, as with a stalled browser tab. */
  pause(): void {
    this.res.pause();
    this.res.socket.pause();
  }

  resume(): void {
    this.res.socket.resume();
    this.res.resume();
  }

  close(): void {
    this.res.destroy();
  }

  private describe(): string {
    return JSON.stringify(this.sequence());
  }
}

export function progressEvent(projectId: string, n: number, partial?: string): ProgressEvent {
  return {
    type: "step.progress",
    projectId,
    runId: "run-1",
    messageId: "msg-1",
    at: 1_700_000_000_000 + n,
    step: "generate-code",
    message: `line ${n}`,
    ...(partial !== undefined ? { partial } : {}),
  };
}

export const allowAll = async (): Promise<{ ok: true }> => ({ ok: true });

/**
 * Multiplexed-stream access for the service suites: the user is the request's `x-user` header (none:
 * UNAUTHORIZED), and each user may hold `maxSubscriptions` subscriptions (`held` counts them).
 */
export function headerUserAccess(maxSubscriptions = Number.MAX_SAFE_INTEGER): MultiplexAccess & { held: Map<string, number> } {
  const held = new Map<string, number>();
  return {
    held,
    authenticate: async (req) => {
      const user = req.headers["x-user"];
      if (typeof user !== "string" || user === "") return { ok: false, code: "UNAUTHORIZED", message: "No user" };
      return { ok: true, userId: user };
    },
    takeSubscriptionSlot: (userId) => {
      const count = held.get(userId) ?? 0;
      if (count >= maxSubscriptions) return { ok: false, message: `At most ${maxSubscriptions} subscriptions` };
      held.set(userId, count + 1);
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          held.set(userId, (held.get(userId) ?? 1) - 1);
        },
      };
    },
  };
}

export interface Harness {
  capture: CapturedLog;
  service: StreamingService;
  server: TestServer;
  open(projectId: string, cursor?: string, headers?: OutgoingHttpHeaders): Promise<StreamClient>;
  /** Opens and waits for `ready`; returns the client and the ready payload. */
  openReady(projectId: string, cursor?: string): Promise<{ client: StreamClient; connectionId: string; cursor: string }>;
  /** Opens the multiplexed stream as `user` (x-user header, see headerUserAccess). */
  openMux(user?: string): Promise<StreamClient>;
  /** Opens the multiplexed stream as `user` and waits for `connected`. */
  openConnected(user?: string): Promise<{ client: StreamClient; connectionId: string }>;
  teardown(): Promise<void>;
}

export async function setup(options: Partial<StreamingServiceOptions> = {}): Promise<Harness> {
  const capture = new CapturedLog();
  const service = new StreamingService({
    log: new MemoryEventLog(),
    logger: capture.logger,
    authorize: allowAll,
    multiplex: headerUserAccess(),
    ...options,
  });
  const server = await startServer(service);
  const clients: StreamClient[] = [];
  const open = async (projectId: string, cursor?: string, headers?: OutgoingHttpHeaders): Promise<StreamClient> => {
    const client = await StreamClient.open(server.url(projectId, cursor), headers);
    clients.push(client);
    return client;
  };
  return {
    capture,
    service,
    server,
    open,
    openReady: async (projectId, cursor) => {
      const client = await open(projectId, cursor);
      const ready = readyFrameSchema.parse(JSON.parse((await client.waitForEvent("ready")).data));
      return { client, ...ready };
    },
    openMux: async (user) => {
      const client = await StreamClient.open(server.muxUrl(), user === undefined ? {} : { "x-user": user });
      clients.push(client);
      return client;
    },
    openConnected: async (user = "user-1") => {
      const client = await StreamClient.open(server.muxUrl(), { "x-user": user });
      clients.push(client);
      const connected = connectedFrameSchema.parse(JSON.parse((await client.waitForEvent("connected")).data));
      return { client, connectionId: connected.connectionId };
    },
    teardown: async () => {
      for (const client of clients) client.close();
      await service.shutdown();
      await server.close();
    },
  };
}

/** A listener whose deliveries can be awaited by count. */
export interface Collector {
  events: LoggedEvent[];
  until(count: number): Promise<LoggedEvent[]>;
  off(): void;
}

export function collect(log: EventLog, projectId: string): Collector {
  const events: LoggedEvent[] = [];
  let waiters: { count: number; resolve: (events: LoggedEvent[]) => void }[] = [];
  const off = log.subscribe(projectId, (event) => {
    events.push(event);
    waiters = waiters.filter((w) => (events.length >= w.count ? (w.resolve(events), false) : true));
  });
  return {
    events,
    off,
    until: (count) => (events.length >= count ? Promise.resolve(events) : new Promise((resolve) => waiters.push({ count, resolve }))),
  };
}
