import type { ServerResponse } from "node:http";
import { log } from "../../../src/lib/process-log";
import type { ExecutorEvents } from "../executor";
import type { DashboardApi } from "./api";
import { toEventView, toFunctionView, type AppView, type StreamFrame } from "./protocol";

/** Runs and events a snapshot carries; older ones stay readable through /v1 and the detail routes. */
export const SNAPSHOT_RUNS = 500;
export const SNAPSHOT_EVENTS = 200;
/** A dashboard tab that stops reading is dropped past this; it reconnects and gets a fresh snapshot. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

function frame(f: StreamFrame): string {
  return `event: ${f.type}\ndata: ${JSON.stringify(f.data)}\n\n`;
}

/**
 * Pushes the engine's changes to every open dashboard (what Inngest's dev server UI polls for).
 * Run changes are coalesced per tick: a run whose steps change three times in a tick is sent once.
 */
export class DashboardLive {
  private readonly clients = new Set<ServerResponse>();
  private readonly dirtyRuns = new Set<string>();
  private flushScheduled = false;
  private keepalive: NodeJS.Timeout | undefined;
  private readonly listeners: { [K in keyof ExecutorEvents]?: (...args: ExecutorEvents[K]) => void } = {
    "run:queued": (view) => this.runChanged(view.runId),
    "run:started": (view) => this.runChanged(view.runId),
    "run:finished": (view) => this.runChanged(view.runId),
    step: ({ runId }) => this.runChanged(runId),
    event: ({ eventId }) => {
      const received = this.api.getEvent(eventId);
      if (received) this.broadcast({ type: "event", data: toEventView(received) });
    },
    sync: () => this.broadcast({ type: "app", data: this.app() }),
    "sync:failed": () => this.broadcast({ type: "app", data: this.app() }),
  };

  constructor(
    private readonly api: DashboardApi,
    private readonly auth: "signing-key" | "none",
  ) {}

  get connections(): number {
    return this.clients.size;
  }

  /** Opens a stream on `res`: snapshot first, then every change, until the client goes. */
  open(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    });
    if (this.clients.size === 0) this.attach();
    this.clients.add(res);
    res.on("close", () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.detach();
    });
    // Snapshot and subscription in one tick: nothing can change between them.
    const runs = this.api.listRuns();
    const events = this.api.listEvents();
    this.write(res, {
      type: "snapshot",
      data: {
        ...this.app(),
        auth: this.auth,
        runs: runs.slice(0, SNAPSHOT_RUNS),
        events: events.slice(0, SNAPSHOT_EVENTS).map(toEventView),
        totals: { runs: runs.length, events: events.length },
      },
    });
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.detach();
  }

  private app(): AppView {
    return { health: this.api.health(), functions: this.api.listFunctions().map(toFunctionView) };
  }

  private attach(): void {
    for (const [name, listener] of Object.entries(this.listeners)) this.api.on(name as "step", listener as () => void);
    this.keepalive = setInterval(() => {
      for (const res of this.clients) res.write(": keep-alive\n\n");
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  private detach(): void {
    for (const [name, listener] of Object.entries(this.listeners)) this.api.off(name as "step", listener as () => void);
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
  }

  private runChanged(runId: string): void {
    this.dirtyRuns.add(runId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const ids = [...this.dirtyRuns];
      this.dirtyRuns.clear();
      for (const id of ids) {
        const view = this.api.getRun(id);
        if (view) this.broadcast({ type: "run", data: view });
      }
    });
  }

  private broadcast(f: StreamFrame): void {
    if (this.clients.size === 0) return;
    const text = frame(f);
    for (const res of this.clients) this.write(res, text);
  }

  private write(res: ServerResponse, f: StreamFrame | string): void {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      log.warn({ bufferedBytes: res.writableLength }, "dashboard stream not reading, closed (it reconnects with a fresh snapshot)");
      res.destroy();
      return;
    }
    res.write(typeof f === "string" ? f : frame(f));
  }
}
