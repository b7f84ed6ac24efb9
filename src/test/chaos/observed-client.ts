import { GenerationStreamClient } from "../../client/stream-client";
import type { StreamSnapshot } from "../../client/stream-snapshot";
import { PROGRESS_EVENT_TYPES, type ResetFrame } from "../../streaming/protocol";
import { streamPath } from "../../streaming/route";
import type { SseFrame } from "../../streaming/sse-parser";
import { NodeEventSource } from "./node-event-source";
import type { Random } from "./seeded-random";
import type { SharedBrowser } from "./shared-browser";

export interface ObservedClientOptions {
  /** `http://host:port` of the server. */
  baseURL: string;
  projectId: string;
  initialCursor: string | null;
  /** The client's backoff jitter: seeded, so a chaos schedule replays. */
  random?: Random;
  /** Extra headers on every stream request (e.g. a session cookie). */
  headers?: Record<string, string>;
  /**
   * A tab of this browser instead of a stream of its own: its drops alternate between reopening the
   * tab's own source (every tab of the browser keeps going) and, every third, killing the browser's
   * one shared socket (every tab reconnects).
   */
  browser?: SharedBrowser;
}

const PROGRESS = new Set<string>(PROGRESS_EVENT_TYPES);

/**
 * The real `GenerationStreamClient` over `NodeEventSource`, watched from outside: the frames every
 * socket delivered, resets, and the time from each drop (and each socket opening) to the next
 * `ready`. Waiting is on the client's own notifications, never on time.
 */
export class ObservedClient {
  readonly client: GenerationStreamClient;
  /** Ids of the progress frames the sockets delivered, in order, before the client's dedupe. */
  readonly wireIds: string[] = [];
  /** Ids of the events the client applied, in order (from its observer hook). */
  readonly appliedIds: string[] = [];
  readonly resets: ResetFrame[] = [];
  /** ms from a drop to the next `ready` (backoff included). */
  readonly dropToReadyMs: number[] = [];
  /** ms from a socket being opened to its `ready` (handshake and replay only). */
  readonly openToReadyMs: number[] = [];
  drops = 0;
  sockets = 0;
  private current: NodeEventSource | null = null;
  private openedAt = 0;
  private pendingDrops: number[] = [];
  private waiters: { match: (s: StreamSnapshot) => boolean; resolve: (s: StreamSnapshot) => void }[] = [];
  private dropAtOpen = false;
  private readyWaiters: (() => void)[] = [];
  private readonly browser: SharedBrowser | undefined;
  private wasReady = false;

  constructor(options: ObservedClientOptions) {
    this.browser = options.browser;
    const tab = options.browser?.tab();
    this.client = new GenerationStreamClient({
      projectId: options.projectId,
      initialCursor: options.initialCursor,
      url: (projectId, cursor) => `${options.baseURL}${streamPath(projectId, cursor)}`,
      observer: (_projectId, frame) => {
        // A tab of a shared browser has no socket of its own: what reached it is what its source delivered.
        if (tab) this.wireIds.push(frame.id);
        if (frame.applied) this.appliedIds.push(frame.id);
      },
      ...(tab
        ? {
            openSource: (projectId: string, cursor: string | null) => {
              this.sockets++;
              this.openedAt = performance.now();
              return tab.open(projectId, cursor);
            },
          }
        : { createEventSource: (url: string) => this.open(url, options.headers) }),
      onReset: (frame) => {
        this.resets.push(frame);
      },
      ...(options.random ? { random: options.random } : {}),
    });
    this.client.subscribe(() => this.changed());
  }

  get snapshot(): StreamSnapshot {
    return this.client.getSnapshot();
  }

  /** The live socket, if any (e.g. to pause it). */
  get socket(): NodeEventSource | null {
    return this.current;
  }

  /** Resolves with the first snapshot (current or future) that matches; `appliedIds` is current when `match` runs. */
  waitFor(match: (s: StreamSnapshot) => boolean): Promise<StreamSnapshot> {
    const now = this.client.getSnapshot();
    if (match(now)) return Promise.resolve(now);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  waitUntilReady(): Promise<StreamSnapshot> {
    return this.waitFor((s) => s.status === "ready");
  }

  /** Drops the next socket the moment its response headers arrive, before any replay or `ready`. */
  dropOnNextOpen(): void {
    this.dropAtOpen = true;
  }

  /** Resolves on the next `ready` frame of any socket opened from now on (not the current state). */
  nextReady(): Promise<void> {
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Kills the current socket as a network fault would; false when there is none to kill. */
  drop(): boolean {
    if (this.browser) return this.dropShared(this.browser);
    const socket = this.current;
    if (!socket || socket.isEnded) return false;
    this.pendingDrops.push(performance.now());
    this.drops++;
    socket.drop();
    return true;
  }

  /** In a shared browser: every third drop kills the shared socket, the others reopen this tab's source. */
  private dropShared(browser: SharedBrowser): boolean {
    if (this.client.getSnapshot().status !== "ready") return false;
    const shared = this.drops % 3 === 2;
    if (shared && this.dropAtOpen) browser.dropOnNextOpen();
    this.dropAtOpen = false;
    if (shared && !browser.drop()) return false;
    this.pendingDrops.push(performance.now());
    this.drops++;
    if (!shared) this.client.retry();
    return true;
  }

  close(): void {
    this.client.close();
    for (const w of this.waiters) w.resolve(this.client.getSnapshot());
    this.waiters = [];
  }

  private open(url: string, headers: Record<string, string> | undefined): NodeEventSource {
    const socket = new NodeEventSource(url, { onFrame: (frame) => this.onFrame(frame), ...(headers ? { headers } : {}) });
    // Registered before the client's own listeners, so the drop comes before anything else of this socket.
    socket.addEventListener("open", () => {
      if (!this.dropAtOpen) return;
      this.dropAtOpen = false;
      this.drop();
    });
    this.current = socket;
    this.sockets++;
    this.openedAt = performance.now();
    return socket;
  }

  private onFrame(frame: SseFrame): void {
    if (PROGRESS.has(frame.event)) this.wireIds.push(frame.id ?? "");
    if (frame.event === "ready") this.reachedReady();
  }

  private reachedReady(): void {
    const now = performance.now();
    this.openToReadyMs.push(now - this.openedAt);
    for (const at of this.pendingDrops) this.dropToReadyMs.push(now - at);
    this.pendingDrops = [];
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    // After the client's own listeners ran: its snapshot is already "ready".
    for (const resolve of waiters) resolve();
  }

  private changed(): void {
    const snapshot = this.client.getSnapshot();
    // A tab of a shared browser sees no socket: its `ready` is the client's own turn to ready.
    if (this.browser) {
      const ready = snapshot.status === "ready";
      if (ready && !this.wasReady) this.reachedReady();
      this.wasReady = ready;
    }
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => (w.match(snapshot) ? (w.resolve(snapshot), false) : true));
  }
}
