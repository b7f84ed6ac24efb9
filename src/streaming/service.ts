import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { silentLogger as defaultLogger } from "../lib/logger";
import { createMetrics, type Metrics } from "../lib/metrics";
import type { CircuitState } from "../lib/circuit-breaker";
import { streamConfig, type StreamConfig } from "./config";
import { Connection, MuxConnection, type Position } from "./connection";
import { InvalidEventError } from "./errors";
import { cursorFromRequest, startStreamResponse } from "./request";
import {
  formatCursor,
  parseCursor,
  progressEventSchema,
  type CloseFrame,
  type Cursor,
  type ErrorFrame,
  type LoggedEvent,
  type ProgressEvent,
} from "./protocol";
import type { ConnectionPresence } from "./redis-presence";
import {
  encodeClose,
  encodeConnected,
  encodeError,
  encodeEvent,
  encodePing,
  encodeReady,
  encodeReset,
  encodeRetry,
  encodeSubscriptionReady,
  encodeSubscriptionReset,
} from "./sse";
import type {
  EventLog,
  MultiplexAccess,
  ReadResult,
  StreamAuthorizer,
  StreamControl,
  SubscriptionOutcome,
  SubscriptionRequest,
} from "./types";

export interface StreamingServiceOptions {
  log: EventLog;
  logger?: Logger;
  config?: Partial<StreamConfig>;
  /** Who may open a project's stream; without one every stream is refused (fail closed). */
  authorize?: StreamAuthorizer;
  /** The process's metrics (default: a registry of this service's own). */
  metrics?: Metrics;
  /** Cross-instance registry (Redis): isConnected also answers for connections held by other instances. */
  presence?: ConnectionPresence;
  /** Who may open the multiplexed stream; without it every one is refused (fail closed). */
  multiplex?: MultiplexAccess;
  /** Cross-instance subscription requests (Redis); without it a connection is reachable on its own instance only. */
  control?: StreamControl;
}

export type DisconnectReason = CloseFrame["reason"] | "client-closed" | "error";

export interface StreamingStats {
  projects: number;
  /** Open responses of both endpoints: per-project streams and multiplexed connections. */
  connections: number;
  /** Project subscriptions of the multiplexed connections. */
  subscriptions: number;
  /** Per project: its per-project streams plus its subscriptions. */
  perProject: Record<string, number>;
}

/**
 * A project's connections share one log subscription, created with the first and dropped with the
 * last. A multiplexed connection's subscription to the project is one of them (keyed by its id).
 */
interface ProjectGroup {
  connections: Map<string, Connection>;
  unsubscribe: () => void;
}

function isCloseReason(reason: DisconnectReason): reason is CloseFrame["reason"] {
  return reason !== "client-closed" && reason !== "error";
}

/**
 * The per-project streaming service: publishers append to the log; every open SSE response of
 * the project receives each event once, in order, as one Buffer serialised once per project.
 */
export class StreamingService {
  private readonly log: EventLog;
  private readonly logger: Logger;
  private readonly config: StreamConfig;
  private readonly authorizer: StreamAuthorizer | undefined;
  private readonly presence: ConnectionPresence | undefined;
  private readonly multiplex: MultiplexAccess | undefined;
  private readonly control: StreamControl | undefined;
  private readonly groups = new Map<string, ProjectGroup>();
  private readonly muxConnections = new Map<string, MuxConnection>();
  private connectionCount = 0;
  private subscriptionCount = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private readonly metrics: Metrics;
  /** The `retry:` hint every response starts with, serialised once for all of them. */
  private readonly retryFrame: Buffer;

  constructor(options: StreamingServiceOptions) {
    this.log = options.log;
    this.logger = options.logger ?? defaultLogger;
    this.config = { ...streamConfig, ...options.config };
    this.retryFrame = encodeRetry(this.config.retryHintMs);
    this.authorizer = options.authorize;
    this.presence = options.presence;
    this.multiplex = options.multiplex;
    this.control = options.control;
    this.metrics = options.metrics ?? createMetrics();
  }

  /** The project's current cursor, e.g. for the server-rendered page to subscribe from. */
  head(projectId: string): Promise<Cursor> {
    return this.log.head(projectId);
  }

  get logKind(): EventLog["kind"] {
    return this.log.kind;
  }

  pingLog(): Promise<void> {
    return this.log.ping();
  }

  /** The publish circuit's state, or null when publishing is not guarded (in-memory log). */
  get logCircuit(): CircuitState | null {
    return this.log.breakerState ?? null;
  }

  /** Every event the project's log still holds, oldest first (diagnostics and test controls). */
  async retained(projectId: string): Promise<LoggedEvent[]> {
    const head = parseCursor(await this.log.head(projectId));
    if (!head) return [];
    const result = await this.log.readAfter(projectId, formatCursor(head.epoch, 0));
    return result.kind === "events" ? result.events : [];
  }

  /**
   * Every event appended to the project's log from this call on, by any instance, for watchers
   * inside the app (a step that stops when its run is cancelled). Resolves once nothing can be
   * missed: the live tail is subscribed, then the log is read back from the head taken before it,
   * covering the moment the tail was starting. So an event may arrive twice: listeners are idempotent.
   */
  async follow(projectId: string, listener: (logged: LoggedEvent) => void): Promise<() => void> {
    const from = await this.log.head(projectId);
    const unsubscribe = this.log.subscribe(projectId, listener);
    try {
      const result = await this.log.readAfter(projectId, from);
      if (result.kind === "events") for (const logged of result.events) listener(logged);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /**
   * Validates and appends. Fan-out is not done here but by the log subscription, so events
   * appended by other instances (Redis) reach this process's connections by the same path.
   * Returns null when the key was already logged (a retried step).
   */
  async publish(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    if (typeof key !== "string" || key.length === 0) throw new InvalidEventError("event key must be a non-empty string");
    const parsed = progressEventSchema.safeParse(event);
    if (!parsed.success) throw new InvalidEventError(`invalid progress event: ${parsed.error.message}`, parsed.error.issues);
    if (parsed.data.projectId !== projectId) {
      throw new InvalidEventError(`event for project ${parsed.data.projectId} published to project ${projectId}`);
    }
    const stopTimer = this.metrics.publishLatency.startTimer();
    const logged = await this.log.append(projectId, key, parsed.data);
    stopTimer();
    (logged ? this.metrics.eventsPublished : this.metrics.eventsDuplicate).inc();
    return logged;
  }

  /**
   * Serves one SSE stream. Resolves once the connection is live (or has been answered with an
   * error frame); the response stays open until the client leaves or a limit closes it.
   * Never rejects and never answers with a 500: failures become an `error` frame.
   */
  async handle(req: IncomingMessage, res: ServerResponse, projectId: string, url?: URL): Promise<void> {
    const state: { conn: Connection | undefined; gone: boolean; begun: boolean } = { conn: undefined, gone: false, begun: false };
    res.once("close", () => {
      state.gone = true;
      if (state.conn) this.disconnect(state.conn, "client-closed");
    });
    try {
      startStreamResponse(req, res);
      const verdict = await this.admit(projectId, req);
      if (state.gone) return;
      // Every answer starts with the retry hint, which sends the headers too (see startStreamResponse).
      // On the cached path everything from here up to `ready` runs in this tick's microtasks: one write.
      res.write(this.retryFrame);
      state.begun = true;
      if (!verdict.ok) return this.reject(res, projectId, { code: verdict.code, message: verdict.message });

      const requested = cursorFromRequest(req, url);
      // Register before reading the log: anything appended from here on is queued, not missed.
      const conn = this.register(projectId, res, requested.kind === "cursor" ? requested.cursor : requested.raw.slice(0, 80));
      state.conn = conn;
      const result: ReadResult =
        requested.kind === "malformed"
          ? { kind: "reset", reason: "malformed-cursor", head: await this.log.head(projectId) }
          : await this.log.readAfter(projectId, requested.cursor);
      if (conn.closed) return;
      const cursor = nothingToReplay(result) ? this.replayNothing(conn, result.head) : await this.replay(conn, result);
      if (conn.closed) return;
      if (!conn.goLive(encodeReady({ connectionId: conn.id, cursor }))) return this.disconnect(conn, "slow-consumer");
      this.logger.debug({ projectId, connectionId: conn.id, cursor, replayed: conn.eventsSent }, "stream ready");
    } catch (err) {
      this.logger.error({ err, projectId, connectionId: state.conn?.id }, "stream failed");
      const frame = encodeError({ code: "INTERNAL", message: "The stream failed on the server" });
      if (!state.begun && !res.destroyed) res.write(this.retryFrame);
      if (state.conn) this.disconnect(state.conn, "error", frame);
      else endWith(res, frame);
    }
  }

  /**
   * Whether a send may rely on the connection: a per-project stream registered for the project, or
   * a multiplexed connection whose subscription to it is confirmed (`ready` sent), on any instance.
   */
  async isConnected(projectId: string, connectionId: string): Promise<boolean> {
    const local = this.groups.get(projectId)?.connections.get(connectionId);
    if (local) return !local.mux || local.isLive;
    return this.presence ? this.presence.isConnected(projectId, connectionId) : false;
  }

  stats(): StreamingStats {
    const perProject: Record<string, number> = {};
    for (const [projectId, group] of this.groups) perProject[projectId] = group.connections.size;
    return { projects: this.groups.size, connections: this.connectionCount, subscriptions: this.subscriptionCount, perProject };
  }

  /**
   * Closes every connection of the project with a `close` frame; returns how many. A multiplexed
   * connection subscribed to it is closed whole (its client resumes every subscription by cursor).
   */
  closeProject(projectId: string, reason: CloseFrame["reason"]): number {
    const conns = [...(this.groups.get(projectId)?.connections.values() ?? [])];
    for (const conn of conns) this.disconnect(conn, reason);
    return conns.length;
  }

  /** Closes every connection (`close` frame, reason server-shutdown), refuses new ones, closes the log. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const mux of [...this.muxConnections.values()]) this.closeMux(mux, "server-shutdown");
    for (const group of [...this.groups.values()]) {
      for (const conn of [...group.connections.values()]) this.disconnect(conn, "server-shutdown");
    }
    this.stopPing();
    await Promise.all([this.control?.close(), this.log.close()]);
  }

  /**
   * Serves one multiplexed stream (`GET /api/stream`): authenticates the user, registers the
   * connection (and, with Redis, listens for subscription requests other instances forward to it),
   * then sends `connected {connectionId}`. Subscriptions come later, through `subscription()`.
   * Never rejects and never answers with a 500: failures become an `error` frame.
   */
  async handleMux(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const state: { mux: MuxConnection | undefined; gone: boolean; begun: boolean } = { mux: undefined, gone: false, begun: false };
    res.once("close", () => {
      state.gone = true;
      if (state.mux) this.closeMux(state.mux, "client-closed");
    });
    try {
      startStreamResponse(req, res);
      const verdict = await this.admitMux(req);
      if (state.gone) return;
      res.write(this.retryFrame);
      state.begun = true;
      if (!verdict.ok) return this.reject(res, null, { code: verdict.code, message: verdict.message });
      const mux = this.registerMux(verdict.userId, res);
      state.mux = mux;
      if (this.control) {
        // Before `connected`: once the client has the id, a subscribe may arrive at any instance.
        let release: () => void;
        try {
          release = await this.control.hold(mux.id, (request) => this.subscriptionHere(request));
        } catch (err) {
          this.logger.warn({ err, connectionId: mux.id }, "stream control unavailable");
          const frame = encodeError({
            code: "UNAVAILABLE",
            message: "Live progress is temporarily unavailable; the stream will reconnect.",
          });
          return this.closeMux(mux, "error", frame);
        }
        if (mux.closed) return release();
        mux.releaseControl = release;
      }
      if (!mux.write(encodeConnected({ connectionId: mux.id }))) return this.closeMux(mux, "slow-consumer");
      mux.live = true;
    } catch (err) {
      this.logger.error({ err, connectionId: state.mux?.id, multiplexed: true }, "stream failed");
      const frame = encodeError({ code: "INTERNAL", message: "The stream failed on the server" });
      if (!state.begun && !res.destroyed) res.write(this.retryFrame);
      if (state.mux) this.closeMux(state.mux, "error", frame);
      else endWith(res, frame);
    }
  }

  /**
   * Adds or removes a subscription of a multiplexed connection, on whichever instance holds it.
   * The caller (the tRPC router) has checked that `userId` may watch the project; the connection
   * must be that user's. A subscribe resolves once its replay (or reset) and `ready` are written.
   */
  async subscription(request: SubscriptionRequest): Promise<SubscriptionOutcome> {
    if (this.muxConnections.has(request.connectionId) || !this.control) return this.subscriptionHere(request);
    let remote: SubscriptionOutcome | null;
    try {
      remote = await this.control.send(request);
    } catch (err) {
      this.logger.warn({ connectionId: request.connectionId, projectId: request.projectId, err }, "stream control unavailable");
      return { ok: false, code: "SERVICE_UNAVAILABLE", message: "Live progress is temporarily unavailable; try again in a moment." };
    }
    return remote ?? notOpen(request.connectionId);
  }

  /** A per-project stream, or (with `mux`) a subscription of a multiplexed connection, which shares its response, timer and ping. */
  private register(projectId: string, res: ServerResponse, cursor: string | undefined, mux?: MuxConnection): Connection {
    const conn = new Connection(projectId, res, this.config.maxBufferedBytes, mux);
    const group = this.groups.get(projectId) ?? this.openGroup(projectId);
    group.connections.set(conn.id, conn);
    if (cursor !== undefined) this.metrics.reconnects.inc();
    // A subscription is announced once confirmed (subscriptionHere), a per-project stream at once.
    if (this.presence && !mux) conn.untrack = this.presence.track(projectId, conn.id);
    const fields = { projectId, connectionId: conn.id, connections: group.connections.size, cursor: cursor ?? null };
    if (mux) {
      this.subscriptionCount++;
      this.metrics.subscriptions.inc();
      this.logger.info(fields, "stream subscribed");
      return conn;
    }
    this.connectionCount++;
    this.metrics.connections.inc();
    conn.timer = setTimeout(() => this.disconnect(conn, "max-duration"), this.config.maxDurationMs);
    conn.timer.unref();
    this.startPing();
    this.logger.info(fields, "stream connected");
    return conn;
  }

  private registerMux(userId: string, res: ServerResponse): MuxConnection {
    const mux = new MuxConnection(userId, res, this.config.maxBufferedBytes);
    this.muxConnections.set(mux.id, mux);
    this.connectionCount++;
    this.metrics.connections.inc();
    mux.timer = setTimeout(() => this.closeMux(mux, "max-duration"), this.config.maxDurationMs);
    mux.timer.unref();
    this.startPing();
    this.logger.info({ connectionId: mux.id, userId, multiplexed: true, connections: this.muxConnections.size }, "stream connected");
    return mux;
  }

  /** A subscription request for a connection this instance holds (asked locally, or forwarded by another instance). */
  private async subscriptionHere(request: SubscriptionRequest): Promise<SubscriptionOutcome> {
    const { connectionId, userId, projectId } = request;
    const mux = this.muxConnections.get(connectionId);
    if (!mux || mux.closed) return notOpen(connectionId);
    if (mux.userId !== userId) {
      this.logger.warn({ connectionId, projectId, userId }, "stream subscription denied");
      return { ok: false, code: "PRECONDITION_FAILED", message: "This stream connection belongs to another user." };
    }
    const existing = mux.subscriptions.get(projectId);
    if (request.op === "unsubscribe") {
      if (existing) this.endSubscription(existing, "unsubscribed");
      return { ok: true, op: "unsubscribe", subscribed: existing !== undefined };
    }
    // A repeated subscribe (a retried mutation, a client resuming from another cursor) replaces the subscription.
    if (existing) this.endSubscription(existing, "resubscribed");
    const slot = this.multiplex?.takeSubscriptionSlot(userId);
    if (!slot?.ok) {
      this.logger.info({ connectionId, projectId, userId }, "stream limit reached");
      return { ok: false, code: "TOO_MANY_REQUESTS", message: slot?.message ?? "No subscription can be added" };
    }
    // Register before reading the log: anything appended from here on is queued, not missed.
    const sub = this.register(projectId, mux.res, request.cursor, mux);
    sub.releaseSlot = slot.release;
    sub.subscriptionId = request.subscriptionId;
    mux.subscriptions.set(projectId, sub);
    try {
      const result = await this.log.readAfter(projectId, request.cursor);
      if (sub.closed) return ended(mux, connectionId);
      const cursor = nothingToReplay(result) ? this.replayNothing(sub, result.head) : await this.replay(sub, result);
      if (sub.closed) return ended(mux, connectionId);
      if (!sub.goLive(encodeSubscriptionReady({ projectId, cursor, subscriptionId: sub.subscriptionId }))) {
        this.closeMux(mux, "slow-consumer");
        return notOpen(connectionId);
      }
      if (this.presence) sub.untrack = this.presence.track(projectId, sub.id);
      const replayed = result.kind === "events" ? result.events.length : 0;
      this.logger.debug({ projectId, connectionId, cursor, replayed }, "stream ready");
      return { ok: true, op: "subscribe", cursor, reset: result.kind === "reset", replayed };
    } catch (err) {
      this.logger.error({ err, projectId, connectionId }, "stream subscription failed");
      this.endSubscription(sub, "error");
      return { ok: false, code: "SERVICE_UNAVAILABLE", message: "The project's progress could not be read; try again in a moment." };
    }
  }

  /** Ends one subscription; its connection stays open. */
  private endSubscription(sub: Connection, reason: DisconnectReason | "unsubscribed" | "resubscribed"): void {
    const mux = sub.mux;
    if (sub.closed || !mux) return;
    sub.closed = true;
    if (mux.subscriptions.get(sub.projectId) === sub) mux.subscriptions.delete(sub.projectId);
    mux.endedEventsSent += sub.eventsSent;
    const left = this.leaveGroup(sub);
    if (left !== null) {
      this.subscriptionCount--;
      this.metrics.subscriptions.dec();
      sub.untrack?.();
      sub.releaseSlot?.();
    }
    this.logger.info(
      {
        projectId: sub.projectId,
        connectionId: sub.id,
        connections: left ?? 0,
        reason,
        eventsSent: sub.eventsSent,
        durationMs: Date.now() - sub.connectedAt,
      },
      "stream unsubscribed",
    );
  }

  /** Closes a multiplexed connection and ends its subscriptions. */
  private closeMux(mux: MuxConnection, reason: DisconnectReason, finalFrame?: Buffer): void {
    if (mux.closed) return;
    const subscriptions = mux.subscriptions.size;
    for (const sub of [...mux.subscriptions.values()]) this.endSubscription(sub, reason);
    mux.closed = true;
    clearTimeout(mux.timer);
    mux.releaseControl?.();
    if (this.muxConnections.delete(mux.id)) {
      this.connectionCount--;
      this.metrics.connections.dec();
      this.metrics.disconnects.inc({ reason });
    }
    if (this.connectionCount === 0) this.stopPing();
    const fields = {
      connectionId: mux.id,
      userId: mux.userId,
      multiplexed: true,
      reason,
      subscriptions,
      eventsSent: mux.eventsSent,
      durationMs: Date.now() - mux.connectedAt,
    };
    this.finish(mux.res, reason, fields, finalFrame);
  }

  /** Takes the connection out of its project's group; the number left, or null when it was not there. */
  private leaveGroup(conn: Connection): number | null {
    const group = this.groups.get(conn.projectId);
    if (!group?.connections.delete(conn.id)) return null;
    if (group.connections.size === 0) {
      group.unsubscribe();
      this.groups.delete(conn.projectId);
    }
    return group.connections.size;
  }

  private openGroup(projectId: string): ProjectGroup {
    const connections = new Map<string, Connection>();
    const unsubscribe = this.log.subscribe(projectId, (logged) => this.fanOut(connections, logged));
    const group: ProjectGroup = { connections, unsubscribe };
    this.groups.set(projectId, group);
    return group;
  }

  /** The hot path: one serialisation, one parse, then the same Buffer to every connection. */
  private fanOut(connections: Map<string, Connection>, logged: LoggedEvent): void {
    const frame = encodeEvent(logged);
    const pos = parseCursor(logged.id);
    this.metrics.eventsDelivered.inc(connections.size);
    for (const conn of connections.values()) {
      if (!conn.deliver(frame, pos)) this.disconnect(conn, "slow-consumer");
    }
  }

  /** The common handshake (no cursor, or one at the head): nothing to send before `ready`, in this tick. */
  private replayNothing(conn: Connection, head: Cursor): Cursor {
    conn.markPosition(parseCursor(head));
    return head;
  }

  /** Sends the replay (or the reset) and returns the cursor `ready` reports. */
  private async replay(conn: Connection, result: ReadResult): Promise<Cursor> {
    if (result.kind === "reset") {
      this.metrics.resets.inc({ reason: result.reason });
      // The client refetches state and continues live from head.
      const reset = { reason: result.reason, cursor: result.head };
      const frame = conn.mux
        ? encodeSubscriptionReset({ projectId: conn.projectId, subscriptionId: conn.subscriptionId, ...reset })
        : encodeReset(reset);
      if (!conn.write(frame, false)) {
        this.disconnect(conn, "slow-consumer");
      }
      conn.markPosition(parseCursor(result.head));
      return result.head;
    }
    let cursor = result.head;
    conn.markPosition(parseCursor(result.head));
    this.metrics.eventsReplayed.inc(result.events.length);
    this.metrics.eventsDelivered.inc(result.events.length);
    let waited = false;
    for (const logged of result.events) {
      if (conn.closed) break;
      cursor = logged.id;
      const pos: Position | null = parseCursor(logged.id);
      if (conn.writeReplay(encodeEvent(logged), pos)) continue;
      if (!waited) {
        waited = true;
        this.logger.debug(
          { projectId: conn.projectId, connectionId: conn.id, replay: result.events.length },
          "stream replay waiting for drain",
        );
      }
      await drained(conn.res);
    }
    return cursor;
  }

  /** Whether this request may have a stream: shutdown and a missing authorizer refuse it before the authorizer is asked. */
  private async admit(projectId: string, req: IncomingMessage): Promise<{ ok: true } | ({ ok: false } & ErrorFrame)> {
    if (this.shuttingDown) return { ok: false, code: "UNAVAILABLE", message: "Server is shutting down" };
    if (!this.authorizer) {
      this.logger.error({ projectId }, "stream authorizer not configured");
      return { ok: false, code: "INTERNAL", message: "Stream authorization is not configured" };
    }
    return this.authorizer(projectId, req);
  }

  private async admitMux(req: IncomingMessage): Promise<{ ok: true; userId: string } | ({ ok: false } & ErrorFrame)> {
    if (this.shuttingDown) return { ok: false, code: "UNAVAILABLE", message: "Server is shutting down" };
    if (!this.multiplex) {
      this.logger.error({ multiplexed: true }, "stream authorizer not configured");
      return { ok: false, code: "INTERNAL", message: "Stream authorization is not configured" };
    }
    return this.multiplex.authenticate(req);
  }

  private reject(res: ServerResponse, projectId: string | null, frame: ErrorFrame): void {
    this.logger.info(projectId === null ? { multiplexed: true, code: frame.code } : { projectId, code: frame.code }, "stream rejected");
    endWith(res, encodeError(frame));
  }

  /** Closes a per-project stream; for a subscription, its whole multiplexed connection. */
  private disconnect(conn: Connection, reason: DisconnectReason, finalFrame?: Buffer): void {
    if (conn.mux) return this.closeMux(conn.mux, reason, finalFrame);
    if (conn.closed) return;
    conn.closed = true;
    clearTimeout(conn.timer);
    const left = this.leaveGroup(conn);
    if (left !== null) {
      this.connectionCount--;
      this.metrics.connections.dec();
      this.metrics.disconnects.inc({ reason });
      conn.untrack?.();
    }
    if (this.connectionCount === 0) this.stopPing();
    const fields = {
      projectId: conn.projectId,
      connectionId: conn.id,
      connections: left ?? 0,
      reason,
      eventsSent: conn.eventsSent,
      durationMs: Date.now() - conn.connectedAt,
    };
    this.finish(conn.res, reason, fields, finalFrame);
  }

  /** Logs the disconnect and ends the response the way its reason needs. */
  private finish(res: ServerResponse, reason: DisconnectReason, fields: Record<string, unknown>, finalFrame: Buffer | undefined): void {
    if (reason === "slow-consumer") {
      this.logger.warn(fields, "stream disconnected");
      // Its buffer is full, so a close frame would never arrive; drop the socket, the client resumes by id.
      res.destroy();
      return;
    }
    this.logger.info(fields, "stream disconnected");
    if (reason === "client-closed") return;
    endWith(res, finalFrame ?? (isCloseReason(reason) ? encodeClose({ reason }) : undefined));
  }

  /**
   * One timer for the whole service; each tick serialises one ping shared by every live response
   * (a multiplexed connection gets one, not one per subscription).
   */
  private startPing(): void {
    if (this.pingTimer) return;
    this.pingTimer = setInterval(() => {
      const frame = encodePing(Date.now());
      for (const group of this.groups.values()) {
        for (const conn of group.connections.values()) {
          if (!conn.mux && conn.isLive && !conn.write(frame, false)) this.disconnect(conn, "slow-consumer");
        }
      }
      for (const mux of this.muxConnections.values()) {
        if (mux.live && !mux.write(frame)) this.closeMux(mux, "slow-consumer");
      }
    }, this.config.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
}

function nothingToReplay(result: ReadResult): result is Extract<ReadResult, { kind: "events" }> {
  return result.kind === "events" && result.events.length === 0;
}

function notOpen(connectionId: string): SubscriptionOutcome {
  return {
    ok: false,
    code: "PRECONDITION_FAILED",
    message: `Stream connection ${connectionId} is not open: open the stream again and subscribe with the id of its connected event.`,
  };
}

/** A subscribe that lost its subscription while replaying: to its connection's close, or to a later (un)subscribe. */
function ended(mux: MuxConnection, connectionId: string): SubscriptionOutcome {
  if (mux.closed) return notOpen(connectionId);
  return { ok: false, code: "CONFLICT", message: "A later subscribe or unsubscribe of this project on this connection replaced this one." };
}

function endWith(res: ServerResponse, frame: Buffer | undefined): void {
  if (res.writableEnded || res.destroyed) return;
  if (frame) res.write(frame);
  res.end();
}

/** Resolves when the socket can take more, or when it is gone (the replay loop then stops). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
