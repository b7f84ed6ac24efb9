import { connect, type Socket } from "node:net";
import { ChunkedDecoder } from "./chunked";
import { subscribeRequest } from "./subscribe";

export interface Target {
  host: string;
  port: number;
}

/**
 * `project`: `GET /api/projects/:id/events`, ready on its `ready {connectionId}` frame.
 * `mux`: `GET /api/stream`, then `stream.subscribe` for the project once `connected {connectionId}`
 * arrives; ready on the `ready {projectId}` frame of that subscription (and the mutation's answer).
 */
export type StreamKind = "project" | "mux";

/** A subscription's timing: subscribe request sent -> its `ready {projectId}` frame received (wall clock ms). */
export interface SubscribeTiming {
  sentAt: number;
  readyAt: number;
}

interface SubscriptionWaiter {
  sentAt: number;
  resolve: (t: SubscribeTiming) => void;
  reject: (e: Error) => void;
}

/** A benchmark event as stamped by either server: `message` = `bench|<tag>|<index>|<stamp ms>`. */
export type BenchListener = (conn: SseConnection, tag: string, index: number, stamp: number, receivedAt: number) => void;
export type FrameListener = (conn: SseConnection, event: string, data: string, receivedAt: number) => void;

const wallClock = (): number => performance.timeOrigin + performance.now();
/** One read buffer for every socket (`onread`): reads are handled synchronously, nothing keeps a slice of it. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const BENCH_MARK = '"message":"bench|';

/**
 * One SSE stream over a raw socket: the GET is written by hand and the response de-chunked and split
 * into frames here, so the load client spends as little as possible per delivery. `ready` resolves on
 * the server's `ready` frame (the handshake), not on socket open.
 */
export class SseConnection {
  readonly startedAt = wallClock();
  readyAt = 0;
  connectionId = "";
  closed = false;
  /** Position of this connection in the measurement that currently listens to it. */
  slot = 0;
  onBench: BenchListener | null = null;
  onFrame: FrameListener | null = null;
  onClose: ((conn: SseConnection) => void) | null = null;
  readonly ready: Promise<void>;
  private readonly socket: Socket;
  private head = "";
  private inBody = false;
  private readonly decoder = new ChunkedDecoder();
  private pending = "";
  private settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** Mux: subscriptions sent and not yet `ready`, by project. */
  private readonly waiting = new Map<string, SubscriptionWaiter>();
  /** Mux: every project subscribed (the first is `projectId`). */
  readonly subscribed: string[] = [];

  constructor(
    readonly projectId: string,
    readonly cookie: string,
    private readonly target: Target,
    readonly kind: StreamKind = "project",
  ) {
    this.ready = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.socket = connect({
      host: target.host,
      port: target.port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (bytes) => this.onData(READ_BUFFER.subarray(0, bytes)) },
    });
    const cookieLine = cookie ? `Cookie: ${cookie}\r\n` : "";
    this.socket.on("connect", () => {
      const path = kind === "mux" ? "/api/stream" : `/api/projects/${projectId}/events`;
      this.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n${cookieLine}\r\n`,
      );
    });
    this.socket.on("error", (err) => this.fail(err));
    this.socket.on("close", () => {
      this.closed = true;
      this.fail(new Error("connection closed before ready"));
      this.onClose?.(this);
    });
  }

  /** Reset rather than FIN: no TIME_WAIT, so the benchmark does not exhaust ephemeral ports. */
  close(): void {
    this.onBench = null;
    this.onFrame = null;
    this.onClose = null;
    if (this.closed) return;
    this.closed = true;
    this.socket.resetAndDestroy();
  }

  /**
   * Mux only: subscribes one more project on this open connection; resolves on its `ready {projectId}`
   * frame once the mutation has answered too (times: request sent -> frame received).
   */
  async subscribe(projectId: string): Promise<SubscribeTiming> {
    if (this.kind !== "mux" || !this.connectionId) throw new Error("subscribe needs an open multiplexed connection");
    if (this.closed) throw new Error("connection closed");
    const sentAt = wallClock();
    const frame = new Promise<SubscribeTiming>((resolve, reject) => this.waiting.set(projectId, { sentAt, resolve, reject }));
    frame.catch(() => undefined);
    try {
      await subscribeRequest(this.target, this.cookie, this.connectionId, projectId);
    } catch (err) {
      this.waiting.delete(projectId);
      throw err;
    }
    const timing = await frame;
    this.subscribed.push(projectId);
    return timing;
  }

  private fail(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    if (!this.settle) return;
    this.settle.reject(err);
    this.settle = null;
  }

  private onData(buf: Buffer): boolean {
    const receivedAt = wallClock();
    if (!this.inBody) {
      this.head += buf.toString("latin1");
      const end = this.head.indexOf("\r\n\r\n");
      if (end === -1) return true;
      const status = this.head.slice(0, this.head.indexOf("\r\n"));
      if (!/^HTTP\/1\.1 200/.test(status)) return this.abort(new Error(`stream answered ${status}`));
      if (!/\r\ntransfer-encoding: chunked/i.test(this.head.slice(0, end))) return this.abort(new Error("stream is not chunked"));
      const rest = Buffer.from(this.head.slice(end + 4), "latin1");
      this.head = "";
      this.inBody = true;
      if (rest.length === 0) return true;
      buf = rest;
    }
    this.decoder.push(buf, (body) => this.onBody(body.toString("latin1"), receivedAt));
    return true;
  }

  private onBody(text: string, receivedAt: number): void {
    const all = this.pending + text;
    let from = 0;
    for (let end = all.indexOf("\n\n", from); end !== -1; end = all.indexOf("\n\n", from)) {
      this.onFrameText(all.slice(from, end), receivedAt);
      from = end + 2;
    }
    this.pending = from === 0 ? all : all.slice(from);
  }

  private onFrameText(frame: string, receivedAt: number): void {
    let event = "message";
    let data = "";
    for (const line of frame.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data = line.slice(6);
    }
    if (event === "step.progress" && this.onBench) {
      const at = data.indexOf(BENCH_MARK);
      if (at !== -1) {
        const start = at + BENCH_MARK.length;
        const [tag, index, stamp] = data.slice(start, data.indexOf('"', start)).split("|");
        this.onBench(this, tag ?? "", Number(index), Number(stamp), receivedAt);
        return;
      }
    }
    if (this.kind === "mux" && (event === "connected" || event === "ready")) {
      this.onMuxControl(event, data, receivedAt);
    } else if (event === "ready" && this.settle) {
      const { connectionId } = JSON.parse(data) as { connectionId?: unknown };
      this.connectionId = typeof connectionId === "string" ? connectionId : "";
      this.readyAt = receivedAt;
      this.settle.resolve();
      this.settle = null;
    } else if (event === "error" && this.settle) {
      this.abort(new Error(`stream error frame: ${data}`));
    }
    if (event !== "ping") this.onFrame?.(this, event, data, receivedAt);
  }

  private onMuxControl(event: string, data: string, receivedAt: number): void {
    const frame = JSON.parse(data) as { connectionId?: unknown; projectId?: unknown };
    if (event === "connected") {
      this.connectionId = typeof frame.connectionId === "string" ? frame.connectionId : "";
      // The handshake goes on: the first subscription; `ready` is its frame.
      this.subscribe(this.projectId).then(
        () => {
          this.settle?.resolve();
          this.settle = null;
        },
        (err: unknown) => this.abort(err instanceof Error ? err : new Error(String(err))),
      );
      return;
    }
    const projectId = typeof frame.projectId === "string" ? frame.projectId : "";
    const waiter = this.waiting.get(projectId);
    if (!waiter) return;
    this.waiting.delete(projectId);
    if (projectId === this.projectId && this.readyAt === 0) this.readyAt = receivedAt;
    waiter.resolve({ sentAt: waiter.sentAt, readyAt: receivedAt });
  }

  private abort(err: Error): boolean {
    this.fail(err);
    this.close();
    return false;
  }
}
