import { connect, type Socket } from "node:net";
import { ChunkedDecoder } from "./chunked";

export interface Target {
  host: string;
  port: number;
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

  constructor(
    readonly projectId: string,
    cookie: string,
    target: Target,
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
      this.socket.write(
        `GET /api/projects/${projectId}/events HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n${cookieLine}\r\n`,
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

  private fail(err: Error): void {
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
    if (event === "ready" && this.settle) {
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

  private abort(err: Error): boolean {
    this.fail(err);
    this.close();
    return false;
  }
}
