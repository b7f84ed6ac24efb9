import { reconnectConfig } from "../streaming/config";
import {
  CONTROL_EVENTS,
  PROGRESS_EVENT_TYPES,
  closeFrameSchema,
  cursorSchema,
  errorFrameSchema,
  parseCursor,
  pingFrameSchema,
  readyFrameSchema,
  resetFrameSchema,
  type ErrorFrame,
  type ProgressEvent,
  type ResetFrame,
} from "../streaming/protocol";
import { Backoff } from "../lib/backoff";
import { BoundedSet } from "./bounded-set";
import { streamPath } from "../streaming/route";
import { browserEventSource, type EventSourceFactory, type EventSourceLike, type MessageEventLike } from "./event-source";
import { parseFrameData, parseProgressFrame } from "./frames";
import { ReadyWaiters } from "./ready-waiters";
import { runSnapshotListSchema, type RunSnapshot } from "./run-snapshot";
import { applyEvent, fromSnapshot, listRuns, type RunState, type RunView } from "./run-state";
import { StreamNotReadyError, TERMINAL_ERROR_CODES, type StreamError } from "./stream-errors";
import { installedStreamObserver, type StreamObserver } from "./stream-observer";
import type { StreamSnapshot, StreamStatus } from "./stream-snapshot";
import { errorMessage } from "../lib/errors";

/** What an `onReset` handler may return: the refetched state, applied with `replaceState`. */
export type ResetOutcome = void | { runs: readonly RunSnapshot[]; cursor: string };

export interface GenerationStreamClientOptions {
  projectId: string;
  /** Where the page's server render left off; null asks the server for "from now on". */
  initialCursor: string | null;
  initialRuns?: readonly RunSnapshot[];
  url?: (projectId: string, cursor: string | null) => string;
  createEventSource?: EventSourceFactory;
  /**
   * Opens the project's stream from after a cursor. Default: an EventSource on `url`. The browser's
   * hook passes the shared stream's (src/client/shared-stream), which serves every tab over one connection.
   */
  openSource?: (projectId: string, cursor: string | null) => EventSourceLike;
  /** The log cannot replay our gap: refetch state. Events arriving meanwhile are re-applied on top. */
  onReset?: (frame: ResetFrame) => ResetOutcome | Promise<ResetOutcome>;
  /** Sees every progress frame the tab receives and whether it applied it; default: the one a test installed, if any. */
  observer?: StreamObserver;
  random?: () => number;
  now?: () => number;
}

/** Dedupe memory: comfortably more than a log's retention (5,000 events). */
const DEDUPE_CAPACITY = 10_000;

/**
 * One project's live stream, framework-free. It owns the EventSource and every reconnect: on any
 * drop, server close or silence it closes the socket and opens a new one after backoff with
 * `?cursor=<last id>`, because the browser's own reconnect would resend a Last-Event-ID we do not
 * control (it also counts ids we dropped as invalid). The stream counts as connected only after the
 * server's `ready` frame, which follows the replay; that is what makes a send after
 * `waitUntilReady()` safe.
 */
export class GenerationStreamClient {
  readonly projectId: string;
  private readonly openSource: (projectId: string, cursor: string | null) => EventSourceLike;
  private readonly onReset: GenerationStreamClientOptions["onReset"];
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly waiters = new ReadyWaiters<{ connectionId: string }>();
  private readonly listeners = new Set<() => void>();
  private readonly seenIds = new BoundedSet<string>(DEDUPE_CAPACITY);
  private readonly seenKeys = new BoundedSet<string>(DEDUPE_CAPACITY);
  private readonly observer: StreamObserver | undefined;
  private applied = 0;

  private status: StreamStatus = "connecting";
  private everReady = false;
  private connectionId: string | null = null;
  private lastId: string | null;
  private lastError: StreamError | null = null;
  private runState: RunState;
  private source: EventSourceLike | null = null;
  /** Bumped per socket, so late callbacks of a closed socket are ignored. */
  private generation = 0;
  private watchdogTimer: ReturnType<typeof setTimeout> | null = null;
  private backoffTimer: ReturnType<typeof setTimeout> | null = null;
  /** Events applied while an onReset refetch is in flight; re-applied on top of its result. */
  private resetBuffer: ProgressEvent[] | null = null;
  private resetToken = 0;
  private closed = false;

  private version = 0;
  private snapshot: StreamSnapshot;
  private snapshotVersion = 0;

  constructor(options: GenerationStreamClientOptions) {
    this.projectId = options.projectId;
    const url = options.url ?? streamPath;
    const createEventSource = options.createEventSource ?? browserEventSource;
    this.openSource = options.openSource ?? ((projectId, cursor) => createEventSource(url(projectId, cursor)));
    this.onReset = options.onReset;
    this.now = options.now ?? Date.now;
    const { baseMs, capMs, healthyAfterMs } = reconnectConfig;
    this.backoff = new Backoff({ baseMs, capMs, healthyAfterMs, random: options.random, now: this.now });
    this.observer = options.observer ?? installedStreamObserver();
    this.lastId = options.initialCursor;
    this.runState = fromSnapshot(options.initialRuns ?? []);
    this.snapshot = this.buildSnapshot(null);
    this.connect();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): StreamSnapshot => {
    if (this.snapshotVersion !== this.version) {
      this.snapshot = this.buildSnapshot(this.snapshot);
      this.snapshotVersion = this.version;
    }
    return this.snapshot;
  };

  waitUntilReady(timeoutMs: number = reconnectConfig.readyTimeoutMs): Promise<{ connectionId: string }> {
    if (this.closed) return Promise.reject(new StreamNotReadyError("closed"));
    if (this.status === "ready" && this.connectionId !== null) return Promise.resolve({ connectionId: this.connectionId });
    if (this.status === "error") return Promise.reject(new StreamNotReadyError("error", this.lastError?.message));
    return this.waiters.wait(timeoutMs, () => new StreamNotReadyError("timeout", `${Math.round(timeoutMs / 1000)}s`));
  }

  /** The user pressed retry: reconnect now with a fresh backoff, even from `error`. */
  retry(): void {
    if (this.closed) return;
    this.backoff.reset();
    this.teardown();
    this.status = this.everReady ? "reconnecting" : "connecting";
    this.connectionId = null;
    this.changed();
    this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.teardown();
    this.waiters.rejectAll(new StreamNotReadyError("closed"));
    this.listeners.clear();
  }

  /** Replaces run state with a server snapshot (after a reset refetch) and moves the cursor forward to it. */
  replaceState(runs: readonly RunSnapshot[], cursor: string): void {
    const parsedRuns = runSnapshotListSchema.safeParse(runs);
    const parsedCursor = cursorSchema.safeParse(cursor);
    if (!parsedRuns.success || !parsedCursor.success) {
      this.recordError("reset", null, "The refetched state after a stream reset is invalid; keeping the current state");
      return;
    }
    let state = fromSnapshot(parsedRuns.data);
    // The snapshot may predate events already received; the reducer never lets them regress it.
    for (const event of this.resetBuffer ?? []) state = applyEvent(state, event);
    this.runState = state;
    this.lastId = laterCursor(this.lastId, parsedCursor.data);
    this.changed();
  }

  private connect(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    let source: EventSourceLike;
    try {
      source = this.openSource(this.projectId, this.lastId);
    } catch (error) {
      this.recordError("transport", null, `Could not open the live stream: ${errorMessage(error)}`);
      this.drop();
      return;
    }
    this.source = source;
    const on = (type: string, handler: (event: MessageEventLike) => void) =>
      source.addEventListener(type, (event) => {
        if (generation !== this.generation || this.closed) return;
        // Any frame, ping included, proves the connection alive.
        this.armWatchdog();
        handler(event);
      });
    on("open", () => {});
    on(CONTROL_EVENTS.error, (e) => this.handleError(e));
    on(CONTROL_EVENTS.ready, (e) => this.handleReady(e));
    on(CONTROL_EVENTS.reset, (e) => this.handleReset(e));
    on(CONTROL_EVENTS.close, (e) => this.handleClose(e));
    on(CONTROL_EVENTS.ping, (e) => this.handlePing(e));
    for (const type of PROGRESS_EVENT_TYPES) on(type, (e) => this.handleProgress(type, e));
    this.armWatchdog();
  }

  private handleProgress(type: string, frame: MessageEventLike): void {
    const parsed = parseProgressFrame(type, frame);
    if (!parsed.ok) return this.recordError("frame", null, parsed.error);
    const { id, key, event } = parsed.value;
    if (event.projectId !== this.projectId) return this.recordError("frame", null, `${type} frame for another project dropped`);
    if (this.seenIds.has(id)) {
      this.observer?.(this.projectId, { id, key, type: event.type, applied: false });
      return;
    }
    this.seenIds.add(id);
    this.lastId = id;
    if (this.status === "reconnecting") this.status = "catching-up";
    // Same key under a new id: a re-emitted event. The cursor still moves past it.
    const fresh = !this.seenKeys.has(key);
    if (fresh) {
      this.seenKeys.add(key);
      this.applied += 1;
      this.runState = applyEvent(this.runState, event);
      this.resetBuffer?.push(event);
    }
    this.observer?.(this.projectId, { id, key, type: event.type, applied: fresh });
    this.changed();
  }

  private handleReady(frame: MessageEventLike): void {
    const parsed = parseFrameData("ready", readyFrameSchema, frame);
    if (!parsed.ok) return this.recordError("frame", null, parsed.error);
    this.status = "ready";
    this.everReady = true;
    this.connectionId = parsed.value.connectionId;
    // The server's position after the replay; equal to our last id unless nothing was replayed.
    this.lastId = parsed.value.cursor;
    this.backoff.markConnected();
    this.changed();
    this.waiters.resolveAll({ connectionId: parsed.value.connectionId });
  }

  private handleReset(frame: MessageEventLike): void {
    const parsed = parseFrameData("reset", resetFrameSchema, frame);
    if (!parsed.ok) return this.recordError("frame", null, parsed.error);
    this.lastId = parsed.value.cursor;
    this.changed();
    if (this.onReset === undefined) return;
    const token = ++this.resetToken;
    this.resetBuffer = [];
    const settle = () => {
      if (token === this.resetToken) this.resetBuffer = null;
    };
    let outcome: ResetOutcome | Promise<ResetOutcome>;
    try {
      outcome = this.onReset(parsed.value);
    } catch (error) {
      this.recordResetFailure(error);
      settle();
      return;
    }
    Promise.resolve(outcome).then(
      (result) => {
        if (token === this.resetToken && !this.closed && result) this.replaceState(result.runs, result.cursor);
        settle();
      },
      (error: unknown) => {
        this.recordResetFailure(error);
        settle();
      },
    );
  }

  private handleError(frame: MessageEventLike): void {
    if (typeof frame.data !== "string") {
      this.recordError("transport", null, "Lost the connection to the live stream");
      return this.drop();
    }
    const parsed = parseFrameData("error", errorFrameSchema, frame);
    if (!parsed.ok) return this.recordError("frame", null, parsed.error);
    const { code, message } = parsed.value;
    this.recordError("server", code, message);
    if (TERMINAL_ERROR_CODES.has(code)) this.fail(code, message);
    else this.drop();
  }

  private handleClose(frame: MessageEventLike): void {
    const parsed = parseFrameData("close", closeFrameSchema, frame);
    const reason = parsed.ok ? parsed.value.reason : "unknown reason";
    if (!parsed.ok) this.recordError("frame", null, parsed.error);
    else this.recordError("transport", null, `The server closed the live stream (${reason}); resuming`);
    // The server is going away either way; resume from our last id.
    this.drop();
  }

  private handlePing(frame: MessageEventLike): void {
    const parsed = parseFrameData("ping", pingFrameSchema, frame);
    if (!parsed.ok) this.recordError("frame", null, parsed.error);
  }

  /** Lost the connection (error, close, silence): close it and reconnect after backoff from the last id. */
  private drop(): void {
    this.teardown();
    if (this.closed || this.status === "error") return;
    this.status = this.everReady ? "reconnecting" : "connecting";
    this.connectionId = null;
    this.changed();
    const delay = this.backoff.nextDelay();
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.connect();
    }, delay);
  }

  private fail(code: ErrorFrame["code"], message: string): void {
    this.teardown();
    this.status = "error";
    this.connectionId = null;
    this.changed();
    this.waiters.rejectAll(new StreamNotReadyError("error", `${message} (${code})`));
  }

  private teardown(): void {
    this.generation += 1;
    this.source?.close();
    this.source = null;
    if (this.watchdogTimer !== null) clearTimeout(this.watchdogTimer);
    this.watchdogTimer = null;
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
  }

  private armWatchdog(): void {
    if (this.watchdogTimer !== null) clearTimeout(this.watchdogTimer);
    this.watchdogTimer = setTimeout(() => {
      this.watchdogTimer = null;
      this.recordError("transport", null, `No data from the live stream for ${Math.round(reconnectConfig.silenceMs / 1000)}s`);
      this.drop();
    }, reconnectConfig.silenceMs);
  }

  private recordResetFailure(error: unknown): void {
    this.recordError("reset", null, `Could not refetch state after a stream reset: ${errorMessage(error)}`);
  }

  private recordError(kind: StreamError["kind"], code: StreamError["code"], message: string): void {
    this.lastError = { kind, code, message, at: this.now() };
    this.changed();
  }

  private changed(): void {
    this.version += 1;
    for (const listener of [...this.listeners]) listener();
  }

  private buildSnapshot(previous: StreamSnapshot | null): StreamSnapshot {
    const runs: readonly RunView[] =
      previous !== null && previous.runState === this.runState ? previous.runs : Object.freeze(listRuns(this.runState));
    const next: StreamSnapshot = {
      status: this.status,
      connectionId: this.connectionId,
      cursor: this.lastId,
      runState: this.runState,
      runs,
      lastError: this.lastError,
      applied: this.applied,
    };
    // A notification that changed nothing visible keeps the old object, so React does not re-render.
    if (previous !== null && (Object.keys(next) as (keyof StreamSnapshot)[]).every((k) => previous[k] === next[k])) return previous;
    return Object.freeze(next);
  }
}

/** The later of two cursors of one log; a cursor from another log (new epoch) wins, since it came last. */
function laterCursor(current: string | null, next: string): string {
  if (current === null) return next;
  const a = parseCursor(current);
  const b = parseCursor(next);
  if (a === null || b === null || a.epoch !== b.epoch) return next;
  return b.seq > a.seq ? next : current;
}
