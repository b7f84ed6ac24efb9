import http, { type ClientRequest, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { EventSourceLike, MessageEventLike } from "../../client/event-source";
import { SseParser, type SseFrame } from "../../streaming/sse-parser";

export interface NodeEventSourceHooks {
  /** Every frame as it is dispatched (after the client's own listeners), for wire-level accounting. */
  onFrame?: (frame: SseFrame) => void;
  /** Extra request headers (e.g. the session cookie a browser would send). */
  headers?: Record<string, string>;
}

/**
 * The slice of a browser EventSource that `GenerationStreamClient` uses, over `node:http` and the
 * app's `SseParser`, so Node tests can run the real client against a real server. Like a browser's:
 * named frames reach listeners of that name with `data` and `lastEventId`; the response ending, a
 * non-200 answer or a socket error is one `error` event without data. It never reconnects by itself
 * (the client owns reconnects). Test hooks: `drop()` kills the socket as a network fault would,
 * `pause()`/`resume()` stop and restart reading, as a stalled tab does.
 */
export class NodeEventSource implements EventSourceLike {
  private readonly listeners = new Map<string, ((event: MessageEventLike) => void)[]>();
  private readonly parser = new SseParser();
  private readonly req: ClientRequest;
  private res: IncomingMessage | null = null;
  private socket: Socket | null = null;
  private lastEventId = "";
  private ended = false;
  private killed = false;

  constructor(
    readonly url: string,
    private readonly hooks: NodeEventSourceHooks = {},
  ) {
    this.req = http.get(url, { headers: { ...hooks.headers, Accept: "text/event-stream", "Cache-Control": "no-cache" }, agent: false });
    this.req.on("socket", (socket: Socket) => (this.socket = socket));
    this.req.on("error", () => this.fail());
    this.req.on("response", (res) => this.onResponse(res));
  }

  addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.ended = true;
    this.req.destroy();
  }

  /** A network fault: the socket dies under the client, which sees a transport error. */
  drop(): void {
    this.killed = true;
    this.socket?.destroy();
    this.req.destroy();
  }

  pause(): void {
    this.res?.pause();
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
    this.res?.resume();
  }

  /** Ended, failed or dropped: nothing more will be dispatched but the pending `error`. */
  get isEnded(): boolean {
    return this.ended || this.killed;
  }

  private onResponse(res: IncomingMessage): void {
    this.res = res;
    res.on("error", () => this.fail());
    res.on("close", () => this.fail());
    const type = res.headers["content-type"] ?? "";
    if (res.statusCode !== 200 || !type.startsWith("text/event-stream")) {
      res.resume();
      this.fail();
      return;
    }
    this.dispatch("open", {});
    res.on("data", (chunk: Buffer) => {
      for (const frame of this.parser.push(chunk)) {
        if (this.ended || this.killed) return;
        if (frame.id !== undefined) this.lastEventId = frame.id;
        this.dispatch(frame.event, { data: frame.data, lastEventId: this.lastEventId });
        this.hooks.onFrame?.(frame);
      }
    });
  }

  private fail(): void {
    if (this.ended) return;
    this.ended = true;
    this.dispatch("error", {});
  }

  private dispatch(type: string, event: MessageEventLike): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}
