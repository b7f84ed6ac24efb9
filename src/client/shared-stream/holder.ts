import { z } from "zod";
import { Backoff } from "../../lib/backoff";
import { errorMessage } from "../../lib/errors";
import { idSchema } from "../../lib/ids";
import { reconnectConfig } from "../../streaming/config";
import {
  CONTROL_EVENTS,
  PROGRESS_EVENT_TYPES,
  closeFrameSchema,
  connectedFrameSchema,
  errorFrameSchema,
  parseCursor,
  subscriptionReadyFrameSchema,
  subscriptionResetFrameSchema,
  type ErrorFrame,
  type ResetFrame,
} from "../../streaming/protocol";
import { muxStreamPath } from "../../streaming/route";
import type { EventSourceFactory, EventSourceLike, MessageEventLike } from "../event-source";
import { parseFrameData } from "../frames";
import { TERMINAL_ERROR_CODES } from "../stream-errors";
import type { TabMessage, TabSink } from "./messages";

/** The tRPC calls the holder makes; a failure throws a {@link SubscriptionCallError}. */
export interface SubscriptionCalls {
  subscribe(input: { connectionId: string; projectId: string; cursor: string | null; subscriptionId: string }): Promise<unknown>;
  unsubscribe(input: { connectionId: string; projectId: string }): Promise<unknown>;
}

/** A refused or failed subscription call: the tRPC error code (none: no answer, e.g. offline) and its message. */
export class SubscriptionCallError extends Error {
  override readonly name = "SubscriptionCallError";
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface StreamHolderOptions {
  calls: SubscriptionCalls;
  createEventSource: EventSourceFactory;
  random?: () => number;
  now?: () => number;
}

interface Position {
  epoch: string;
  seq: number;
}

interface RingFrame {
  readonly type: string;
  readonly data: string;
  readonly id: string;
  readonly pos: Position;
}

interface Source {
  readonly id: string;
  readonly tabId: string;
  readonly projectId: string;
  readonly cursor: string | null;
  /** The last position this source was given (replay or live); later frames only. */
  last: Position | null;
  attached: boolean;
  /**
   * The feed was resubscribed once for this source, its cursor outside the ring (older than it, or
   * past its head): the server's answer settles it; a second time the source is reset.
   */
  asked: boolean;
}

/**
 * One project on the shared connection: its sources (stream clients in tabs), its subscription, and
 * a ring of the events received since the subscription's cursor, so a tab that joins later is
 * replayed locally from its own cursor instead of disturbing the live subscription.
 */
interface Feed {
  readonly projectId: string;
  readonly sources: Map<string, Source>;
  /** idle: not subscribed on the current connection; subscribing: stream.subscribe sent, `ready` not seen; live. */
  state: "idle" | "subscribing" | "live";
  /** Every event after `start` up to `head` is in `ring`, in log order. */
  ring: RingFrame[];
  ringBytes: number;
  start: Position | null;
  /**
   * While subscribing: the cursor the subscribe replays from. The ring takes events after it, and
   * covers them from its own `ready` on; a rewind (from before `start`) extends the ring backwards
   * only then, since a subscribe that dies before its `ready` leaves a hole.
   */
  from: Position | null;
  head: Position | null;
  headId: string | null;
  /** The id of the feed's latest subscribe: only that one's `ready` or `reset` is the feed's own. */
  subscriptionId: string | null;
  /** The connection its latest subscribe went to: the server may hold a subscription there even if the call failed. */
  subscribedOn: string | null;
}

/** The shared connection: absent, opening, open (after `connected`), waiting out a backoff, or refused for good. */
type ConnectionState =
  | { kind: "idle" }
  | { kind: "connecting"; source: EventSourceLike }
  | { kind: "open"; source: EventSourceLike; connectionId: string }
  | { kind: "waiting"; timer: ReturnType<typeof setTimeout> }
  | { kind: "failed" };

/** Ring bounds per project: enough for a tab opened or reloaded during a long run. */
const RING_FRAMES = 2_000;
const RING_BYTES = 2 * 1024 * 1024;

const frameProjectSchema = z.object({ event: z.object({ projectId: idSchema }) });

/**
 * Holds the browser's one multiplexed stream (`GET /api/stream`) for every tab: it subscribes each
 * project that any tab watches (reference-counted by sources), and answers each source with exactly
 * the frames a per-project stream would have sent from that source's cursor: the replay (from its
 * ring, or the server's), `ready`, live events, pings, errors. It runs in the SharedWorker, in the
 * leader tab, or in a tab alone; the transport to tabs is the caller's (`TabSink`).
 *
 * On a drop (error, server close, silence) every source gets that failure, as from its own stream,
 * and is forgotten: its client reopens from its own last id. The holder reconnects after backoff and
 * resubscribes each project from the last event it received, so its ring continues without a gap.
 */
export class StreamHolder {
  private readonly calls: SubscriptionCalls;
  private readonly createEventSource: EventSourceFactory;
  private readonly backoff: Backoff;
  private readonly tabs = new Map<string, { sink: TabSink; sources: Set<string> }>();
  private readonly sources = new Map<string, Source>();
  private readonly feeds = new Map<string, Feed>();
  /** Per connection and project, the subscribe/unsubscribe calls in order: the server must see them in the order made. */
  private readonly calls$ = new Map<string, Promise<void>>();
  private state: ConnectionState = { kind: "idle" };
  /** Names each subscribe (`subscriptionId`), so a `ready` of a replaced or unanswered one is not taken for the current one's. */
  private subscribes = 0;
  /** Bumped per connection, so late callbacks of a previous one are ignored. */
  private generation = 0;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Connections opened so far (diagnostics and tests). */
  connectionsOpened = 0;

  constructor(options: StreamHolderOptions) {
    this.calls = options.calls;
    this.createEventSource = options.createEventSource;
    const { baseMs, capMs, healthyAfterMs } = reconnectConfig;
    this.backoff = new Backoff({ baseMs, capMs, healthyAfterMs, random: options.random, now: options.now });
  }

  get connectionState(): ConnectionState["kind"] {
    return this.state.kind;
  }

  get connectionId(): string | null {
    return this.state.kind === "open" ? this.state.connectionId : null;
  }

  /** How many sources watch each project (reference counts). */
  sourceCounts(): Map<string, number> {
    return new Map([...this.feeds.values()].map((f) => [f.projectId, f.sources.size]));
  }

  /** A message from a tab; `sink` reaches that tab. */
  handle(sink: TabSink, message: TabMessage): void {
    if (this.closed) return;
    switch (message.t) {
      case "hello":
        this.tabFor(message.tabId, sink);
        return;
      case "open":
        return this.open(this.tabFor(message.tabId, sink), message.tabId, message.sourceId, message.projectId, message.cursor);
      case "close":
        return this.removeSource(message.sourceId);
      case "bye":
        return this.removeTab(message.tabId);
    }
  }

  /** The tab went away (closed, navigated, frozen): its sources end. */
  removeTab(tabId: string): void {
    const tab = this.tabs.get(tabId);
    if (!tab) return;
    for (const id of [...tab.sources]) this.removeSource(id);
    this.tabs.delete(tabId);
  }

  /** Stops for good (the leader stepped down): closes the connection without a word to the tabs. */
  close(): void {
    this.closed = true;
    this.teardown();
    if (this.state.kind === "waiting") clearTimeout(this.state.timer);
    this.state = { kind: "idle" };
    this.tabs.clear();
    this.sources.clear();
    this.feeds.clear();
  }

  private tabFor(tabId: string, sink: TabSink) {
    let tab = this.tabs.get(tabId);
    if (!tab) {
      tab = { sink, sources: new Set() };
      this.tabs.set(tabId, tab);
    }
    tab.sink = sink;
    return tab;
  }

  private open(tab: { sources: Set<string> }, tabId: string, sourceId: string, projectId: string, cursor: string | null): void {
    if (this.sources.has(sourceId)) return;
    const source: Source = { id: sourceId, tabId, projectId, cursor, last: null, attached: false, asked: false };
    this.sources.set(sourceId, source);
    tab.sources.add(sourceId);
    const feed = this.feeds.get(projectId) ?? this.newFeed(projectId);
    feed.sources.set(sourceId, source);
    switch (this.state.kind) {
      case "failed":
        // Refused for good before; a new source (a retry, another tab) is worth one more try.
        this.backoff.reset();
        return this.connect();
      case "idle":
        return this.connect();
      case "connecting":
      case "waiting":
        return; // subscribed once connected
      case "open":
        if (feed.state === "live") return this.attachAll(feed);
        if (feed.state === "idle") return this.subscribe(feed);
        return; // attached at its `ready`
    }
  }

  private newFeed(projectId: string): Feed {
    const feed: Feed = {
      projectId,
      sources: new Map(),
      state: "idle",
      ring: [],
      ringBytes: 0,
      start: null,
      from: null,
      head: null,
      headId: null,
      subscriptionId: null,
      subscribedOn: null,
    };
    this.feeds.set(projectId, feed);
    return feed;
  }

  private removeSource(sourceId: string): void {
    const source = this.sources.get(sourceId);
    if (!source) return;
    this.sources.delete(sourceId);
    this.tabs.get(source.tabId)?.sources.delete(sourceId);
    const feed = this.feeds.get(source.projectId);
    if (!feed) return;
    feed.sources.delete(sourceId);
    if (feed.sources.size > 0) return;
    this.feeds.delete(feed.projectId);
    // The last project: closing the connection ends every subscription on the server too.
    if (this.sources.size === 0) return this.goIdle();
    // Unsubscribed whenever the server may hold the subscription, even if its subscribe failed (unanswered).
    if (this.state.kind === "open" && feed.subscribedOn === this.state.connectionId) {
      const connectionId = this.state.connectionId;
      this.enqueue(connectionId, feed.projectId, () =>
        this.calls.unsubscribe({ connectionId, projectId: feed.projectId }).then(ignore, ignore),
      );
    }
  }

  /** No source left: close the connection rather than hold one nobody reads. */
  private goIdle(): void {
    if (this.state.kind === "waiting") clearTimeout(this.state.timer);
    this.teardown();
    this.feeds.clear();
    this.state = { kind: "idle" };
  }

  private connect(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    let source: EventSourceLike;
    try {
      source = this.createEventSource(muxStreamPath());
    } catch (error) {
      return this.drop({
        type: CONTROL_EVENTS.error,
        data: frameData({ code: "UNAVAILABLE", message: `Could not open the live stream: ${errorMessage(error)}` }),
      });
    }
    this.connectionsOpened += 1;
    this.state = { kind: "connecting", source };
    const on = (type: string, handler: (event: MessageEventLike) => void) =>
      source.addEventListener(type, (event) => {
        if (generation !== this.generation || this.closed) return;
        this.armWatchdog();
        handler(event);
      });
    on(CONTROL_EVENTS.connected, (e) => this.onConnected(source, e));
    on(CONTROL_EVENTS.ready, (e) => this.onReady(e));
    on(CONTROL_EVENTS.reset, (e) => this.onReset(e));
    on(CONTROL_EVENTS.error, (e) => this.onError(e));
    on(CONTROL_EVENTS.close, (e) => this.onClose(e));
    on(CONTROL_EVENTS.ping, (e) => this.toAll({ type: CONTROL_EVENTS.ping, data: stringData(e) }));
    for (const type of PROGRESS_EVENT_TYPES) on(type, (e) => this.onProgress(type, e));
    this.armWatchdog();
  }

  private onConnected(source: EventSourceLike, event: MessageEventLike): void {
    const parsed = parseFrameData("connected", connectedFrameSchema, event);
    if (!parsed.ok) return this.drop({ type: CONTROL_EVENTS.error });
    this.state = { kind: "open", source, connectionId: parsed.value.connectionId };
    this.backoff.markConnected();
    for (const feed of [...this.feeds.values()]) {
      if (feed.sources.size === 0) this.feeds.delete(feed.projectId);
      else this.subscribe(feed);
    }
  }

  /**
   * Subscribes the project from the last event received (the ring continues); from a waiting tab's
   * cursor older than the ring (the ring is kept and its start moves back: the server's replay fills
   * it in); or, new, from the oldest waiting tab's cursor.
   */
  private subscribe(feed: Feed): void {
    if (this.state.kind !== "open") return;
    const { connectionId } = this.state;
    const generation = this.generation;
    const waiting = [...feed.sources.values()].filter((s) => !s.attached);
    const oldest = oldestCursor(waiting);
    const oldestPos = oldest === null ? null : parseCursor(oldest);
    let cursor: string | null;
    if (feed.headId === null) {
      cursor = oldest;
      feed.start = null;
      feed.ring = [];
      feed.ringBytes = 0;
    } else {
      // A head comes with a start (both are set together): the ring continues, or rewinds to an older tab.
      cursor = oldestPos !== null && this.before(feed, oldestPos) ? oldest : feed.headId;
    }
    feed.from = cursor === null ? null : parseCursor(cursor);
    feed.state = "subscribing";
    // Named now: from here on only this subscribe's ready counts, not an earlier one still in flight.
    const subscriptionId = `s${++this.subscribes}`;
    feed.subscriptionId = subscriptionId;
    this.enqueue(connectionId, feed.projectId, async () => {
      if (generation !== this.generation || this.feeds.get(feed.projectId) !== feed || feed.subscriptionId !== subscriptionId) return;
      feed.subscribedOn = connectionId;
      try {
        await this.calls.subscribe({ connectionId, projectId: feed.projectId, cursor, subscriptionId });
      } catch (error) {
        this.subscribeFailed(feed, generation, subscriptionId, error);
      }
    });
  }

  /** Whether `pos` lies before the ring's start in the ring's own log (so the ring cannot replay from it). */
  private before(feed: Feed, pos: Position): boolean {
    return feed.start !== null && pos.epoch === feed.start.epoch && pos.seq < feed.start.seq;
  }

  /** Whether `pos` lies past the ring's head in its log: a page rendered after an event still on its way here. */
  private ahead(feed: Feed, pos: Position): boolean {
    return feed.head !== null && pos.epoch === feed.head.epoch && pos.seq > feed.head.seq;
  }

  private subscribeFailed(feed: Feed, generation: number, subscriptionId: string, error: unknown): void {
    if (generation !== this.generation || this.feeds.get(feed.projectId) !== feed || feed.subscriptionId !== subscriptionId) return;
    if (feed.state !== "subscribing") return;
    const code = error instanceof SubscriptionCallError ? error.code : undefined;
    const message = errorMessage(error);
    // The connection is gone on the server (or belongs to another session now): open a new one.
    if (code === "PRECONDITION_FAILED") return this.drop({ type: CONTROL_EVENTS.error });
    // Over the user's stream limit: FORBIDDEN, as the per-project stream answers it, so the tab stops and shows why.
    const frameCode: ErrorFrame["code"] = code === "TOO_MANY_REQUESTS" ? "FORBIDDEN" : isErrorFrameCode(code) ? code : "UNAVAILABLE";
    const frame = { type: CONTROL_EVENTS.error, data: frameData({ code: frameCode, message }) };
    // Every source of the project ends with it, the attached ones of a rewind too (nothing feeds them
    // now); each client retries from its own last id. The server may still hold a subscription of an
    // unanswered call: the last source's removal unsubscribes it.
    feed.state = "idle";
    for (const source of [...feed.sources.values()]) {
      this.send(source, frame);
      this.removeSource(source.id);
    }
  }

  private onProgress(type: string, event: MessageEventLike): void {
    const id = event.lastEventId;
    const pos = id === undefined ? null : parseCursor(id);
    const data = stringData(event);
    if (id === undefined || pos === null || data === undefined) return;
    const projectId = projectOf(data);
    const feed = projectId === null ? undefined : this.feeds.get(projectId);
    if (!feed || feed.state === "idle") return;
    const frame: RingFrame = { type, data, id, pos };
    if (!this.remember(feed, frame)) return;
    // Attached sources exist while subscribing only in a rewind: the old subscription's live frames,
    // then the new one's replay, each in log order; `deliver` skips what a source already has.
    for (const source of feed.sources.values()) if (source.attached) this.deliver(source, frame);
  }

  /**
   * Adds an event to the ring in log order; false when it was already there. Events normally arrive
   * in order; the exception is a project resubscribed right after an unsubscribe, whose previous
   * subscription's last frames can still be in flight: ordering by position keeps the ring whole.
   * Such a straggler can lie past a gap the replay has yet to fill, so the head (what a resubscribe
   * resumes from, what a tab's cursor must be within) moves only once the subscription is live.
   */
  private remember(feed: Feed, frame: RingFrame): boolean {
    const live = feed.state === "live";
    const epoch = feed.start?.epoch ?? feed.from?.epoch ?? feed.head?.epoch;
    if (epoch !== undefined && frame.pos.epoch !== epoch) {
      // Another log (it was replaced): what the ring held does not lead up to this event.
      feed.ring = [];
      feed.ringBytes = 0;
      feed.start = live ? frame.pos : null;
      feed.from = null;
      feed.head = live ? frame.pos : null;
      feed.headId = live ? frame.id : null;
      return true;
    }
    const floor = lower(feed.start, feed.from);
    if (floor !== null && frame.pos.seq <= floor.seq) return false;
    let index = feed.ring.length;
    while (index > 0 && feed.ring[index - 1]!.pos.seq >= frame.pos.seq) {
      if (feed.ring[index - 1]!.pos.seq === frame.pos.seq) return false;
      index -= 1;
    }
    feed.ring.splice(index, 0, frame);
    feed.ringBytes += frame.data.length;
    if (live && (feed.head === null || frame.pos.seq > feed.head.seq)) {
      feed.head = frame.pos;
      feed.headId = frame.id;
    }
    while (feed.ring.length > RING_FRAMES || feed.ringBytes > RING_BYTES) {
      const dropped = feed.ring.shift()!;
      feed.ringBytes -= dropped.data.length;
      if (feed.start === null || dropped.pos.seq > feed.start.seq) feed.start = dropped.pos;
      if (feed.from !== null && dropped.pos.seq > feed.from.seq) feed.from = dropped.pos;
    }
    return true;
  }

  private onReady(event: MessageEventLike): void {
    const parsed = parseFrameData("ready", subscriptionReadyFrameSchema, event);
    if (!parsed.ok) return;
    const feed = this.feeds.get(parsed.value.projectId);
    // A replaced or unanswered subscribe's ready is not this feed's.
    if (!feed || feed.state !== "subscribing" || parsed.value.subscriptionId !== feed.subscriptionId) return;
    const pos = parseCursor(parsed.value.cursor);
    if (pos === null) return;
    // The replay from `from` is all here (it came before this ready): the ring covers it now. Subscribed
    // from now on, or the log changed under us: the ring starts at `ready`.
    const start = lower(sameLog(feed.start, pos), sameLog(feed.from, pos)) ?? pos;
    feed.start = start;
    feed.from = null;
    // Left over from a subscribe that died before its ready: not part of what the ring covers.
    feed.ring = feed.ring.filter((f) => f.pos.epoch === start.epoch && f.pos.seq > start.seq);
    feed.ringBytes = feed.ring.reduce((n, f) => n + f.data.length, 0);
    if (feed.head === null || feed.head.epoch !== pos.epoch || pos.seq > feed.head.seq) {
      feed.head = pos;
      feed.headId = parsed.value.cursor;
    }
    feed.state = "live";
    this.attachAll(feed);
  }

  private onReset(event: MessageEventLike): void {
    const parsed = parseFrameData("reset", subscriptionResetFrameSchema, event);
    if (!parsed.ok) return;
    const feed = this.feeds.get(parsed.value.projectId);
    const pos = parseCursor(parsed.value.cursor);
    // A replaced subscription's reset (it comes before that one's ready) is not this feed's.
    if (!feed || feed.state !== "subscribing" || pos === null || parsed.value.subscriptionId !== feed.subscriptionId) return;
    // The log cannot replay from our cursor: the ring starts over at its head; waiting sources are reset at attach.
    const refused = feed.from;
    feed.ring = [];
    feed.ringBytes = 0;
    feed.start = pos;
    feed.from = null;
    // Nor from any older cursor of that log: a waiting source at or before it is reset without asking again.
    for (const source of feed.sources.values()) {
      const cursor = source.cursor === null ? null : parseCursor(source.cursor);
      if (refused !== null && cursor !== null && cursor.epoch === refused.epoch && cursor.seq <= refused.seq) source.asked = true;
    }
    feed.head = pos;
    feed.headId = parsed.value.cursor;
    // A rewind's attached sources may lack events up to the log's head too, and no replay brings them now.
    const frame = { type: CONTROL_EVENTS.reset, data: frameData({ reason: parsed.value.reason, cursor: parsed.value.cursor }) };
    for (const source of feed.sources.values()) {
      if (!source.attached || (source.last !== null && source.last.epoch === pos.epoch && source.last.seq >= pos.seq)) continue;
      this.send(source, frame);
      source.last = pos;
    }
  }

  /**
   * Attaches every waiting source the ring covers. For a source whose cursor lies outside the ring,
   * the server is asked before the tab is reset: the feed is resubscribed, once. From a cursor before
   * the ring (it was started from a later tab's cursor), the server's log may well still hold what
   * the ring does not; past the head, the event the page was rendered after is likely on its way,
   * and the resubscribe's `ready` carries the server's head.
   */
  private attachAll(feed: Feed): void {
    let ask = false;
    for (const source of [...feed.sources.values()]) {
      if (source.attached) continue;
      const cursor = source.cursor === null ? null : parseCursor(source.cursor);
      if (cursor !== null && !source.asked && (this.before(feed, cursor) || this.ahead(feed, cursor))) {
        source.asked = true;
        ask = true;
      } else {
        this.attach(feed, source);
      }
    }
    if (ask) this.subscribe(feed);
  }

  /**
   * The source joins the live feed: replayed from the ring after its cursor when the ring covers it,
   * else told to refetch (`reset`, as the server would), then `ready` at the feed's head.
   */
  private attach(feed: Feed, source: Source): void {
    if (this.state.kind !== "open" || feed.head === null || feed.headId === null || feed.start === null) return;
    const head = feed.head;
    const cursor = source.cursor === null ? null : parseCursor(source.cursor);
    if (cursor !== null) {
      const covered = cursor.epoch === feed.start.epoch && cursor.seq >= feed.start.seq && cursor.seq <= head.seq;
      if (covered) {
        source.last = cursor;
        for (const frame of feed.ring) if (frame.pos.seq > cursor.seq) this.deliver(source, frame);
      } else {
        const reason: ResetFrame["reason"] =
          cursor.epoch !== head.epoch ? "unknown-log" : cursor.seq > head.seq ? "future-cursor" : "retention";
        this.send(source, { type: CONTROL_EVENTS.reset, data: frameData({ reason, cursor: feed.headId }) });
      }
    } else if (source.cursor !== null) {
      this.send(source, { type: CONTROL_EVENTS.reset, data: frameData({ reason: "malformed-cursor", cursor: feed.headId }) });
    }
    source.last = head;
    source.attached = true;
    this.send(source, { type: CONTROL_EVENTS.ready, data: frameData({ connectionId: this.state.connectionId, cursor: feed.headId }) });
  }

  private deliver(source: Source, frame: RingFrame): void {
    const last = source.last;
    if (last !== null && last.epoch === frame.pos.epoch && frame.pos.seq <= last.seq) return;
    source.last = frame.pos;
    this.send(source, { type: frame.type, data: frame.data, id: frame.id });
  }

  private onError(event: MessageEventLike): void {
    if (typeof event.data !== "string") return this.drop({ type: CONTROL_EVENTS.error });
    const parsed = parseFrameData("error", errorFrameSchema, event);
    if (!parsed.ok) return this.drop({ type: CONTROL_EVENTS.error });
    if (!TERMINAL_ERROR_CODES.has(parsed.value.code)) return this.drop({ type: CONTROL_EVENTS.error, data: event.data });
    // Refused for good (signed out): every source hears why; no reconnect until a source opens again.
    this.toAll({ type: CONTROL_EVENTS.error, data: event.data });
    this.teardown();
    this.forgetSources();
    this.state = { kind: "failed" };
  }

  private onClose(event: MessageEventLike): void {
    const parsed = parseFrameData("close", closeFrameSchema, event);
    this.drop(parsed.ok ? { type: CONTROL_EVENTS.close, data: stringData(event) } : { type: CONTROL_EVENTS.error });
  }

  /** Lost the connection: every source hears `frame` (as from its own stream) and is forgotten; reconnect after backoff. */
  private drop(frame: FrameOut): void {
    this.teardown();
    if (this.closed) return;
    this.toAll(frame);
    this.forgetSources();
    const delay = this.backoff.nextDelay();
    this.state = {
      kind: "waiting",
      timer: setTimeout(() => {
        if (this.sources.size > 0) this.connect();
        else this.goIdle();
      }, delay),
    };
  }

  /** Sources are dropped, feeds kept (their ring and head let the next connection continue from there). */
  private forgetSources(): void {
    this.sources.clear();
    for (const tab of this.tabs.values()) tab.sources.clear();
    for (const feed of this.feeds.values()) {
      feed.sources.clear();
      feed.state = "idle";
    }
  }

  private teardown(): void {
    this.generation += 1;
    if (this.state.kind === "connecting" || this.state.kind === "open") this.state.source.close();
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private armWatchdog(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      this.drop({ type: CONTROL_EVENTS.error });
    }, reconnectConfig.silenceMs);
  }

  private toAll(frame: FrameOut): void {
    for (const source of this.sources.values()) this.send(source, frame);
  }

  private send(source: Source, frame: FrameOut): void {
    this.tabs.get(source.tabId)?.sink({ t: "frame", sourceId: source.id, ...frame });
  }

  /** Chained per connection and project: a later connection's calls never wait on a dead one's. */
  private enqueue(connectionId: string, projectId: string, call: () => Promise<void>): void {
    const key = `${connectionId} ${projectId}`;
    const previous = this.calls$.get(key) ?? Promise.resolve();
    const next = previous.then(call, call);
    this.calls$.set(key, next);
    void next.finally(() => {
      if (this.calls$.get(key) === next) this.calls$.delete(key);
    });
  }
}

interface FrameOut {
  type: string;
  data?: string;
  id?: string;
}

function ignore(): void {}

function frameData(value: unknown): string {
  return JSON.stringify(value);
}

function stringData(event: MessageEventLike): string | undefined {
  return typeof event.data === "string" ? event.data : undefined;
}

function projectOf(data: string): string | null {
  try {
    const parsed = frameProjectSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data.event.projectId : null;
  } catch {
    return null;
  }
}

/** The position if it is of `log`'s log, else null. */
function sameLog(pos: Position | null, log: Position): Position | null {
  return pos !== null && pos.epoch === log.epoch ? pos : null;
}

/** The earlier of two positions of one log (either may be absent). */
function lower(a: Position | null, b: Position | null): Position | null {
  if (a === null) return b;
  if (b === null || b.epoch !== a.epoch) return a;
  return b.seq < a.seq ? b : a;
}

/** The cursor that needs the longest replay (the tab that knows least); null when every source starts from now. */
function oldestCursor(sources: Iterable<Source>): string | null {
  let oldest: { id: string; pos: Position } | null = null;
  for (const source of sources) {
    const pos = source.cursor === null ? null : parseCursor(source.cursor);
    if (pos === null || source.cursor === null) continue;
    if (oldest === null || (pos.epoch === oldest.pos.epoch && pos.seq < oldest.pos.seq)) oldest = { id: source.cursor, pos };
  }
  return oldest?.id ?? null;
}

const ERROR_FRAME_CODES = new Set<string>(errorFrameSchema.shape.code.options);

function isErrorFrameCode(code: string | undefined): code is ErrorFrame["code"] {
  return code !== undefined && ERROR_FRAME_CODES.has(code);
}
