import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { silentLogger as defaultLogger } from "../lib/logger";
import { createMetrics, type Metrics } from "../lib/metrics";
import type { CircuitState } from "../lib/circuit-breaker";
import { streamConfig, type StreamConfig } from "./config";
import { Connection, type Position } from "./connection";
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
import { encodeClose, encodeError, encodeEvent, encodePing, encodeReady, encodeReset, encodeRetry } from "./sse";
import type { EventLog, ReadResult, StreamAuthorizer } from "./types";

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
}

export type DisconnectReason = CloseFrame["reason"] | "client-closed" | "error";

export interface StreamingStats {
  projects: number;
  connections: number;
  perProject: Record<string, number>;
}

/** A project's connections share one log subscription, created with the first and dropped with the last. */
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
  private readonly untrack = new Map<string, () => void>();
  private readonly groups = new Map<string, ProjectGroup>();
  private connectionCount = 0;
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
  async handle(req: IncomingMessage, res: ServerResponse, projectId: string): Promise<void> {
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

      const requested = cursorFromRequest(req);
      // Register before reading the log: anything appended from here on is queued, not missed.
      const conn = this.register(projectId, res, requested.kind === "cursor" ? requested.cursor : requested.raw.slice(0, 80));
      state.conn = conn;
      const result: ReadResult =
        requested.kind === "malformed"
          ? { kind: "reset", reason: "malformed-cursor", head: await this.log.head(projectId) }
          : await this.log.readAfter(projectId, requested.cursor);
      if (conn.closed) return;
      const cursor = await this.replay(conn, result);
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

  async isConnected(projectId: string, connectionId: string): Promise<boolean> {
    if (this.groups.get(projectId)?.connections.has(connectionId)) return true;
    return this.presence ? this.presence.isConnected(projectId, connectionId) : false;
  }

  stats(): StreamingStats {
    const perProject: Record<string, number> = {};
    for (const [projectId, group] of this.groups) perProject[projectId] = group.connections.size;
    return { projects: this.groups.size, connections: this.connectionCount, perProject };
  }

  /** Closes every connection of the project with a `close` frame; returns how many. */
  closeProject(projectId: string, reason: CloseFrame["reason"]): number {
    const conns = [...(this.groups.get(projectId)?.connections.values() ?? [])];
    for (const conn of conns) this.disconnect(conn, reason);
    return conns.length;
  }

  /** Closes every connection (`close` frame, reason server-shutdown), refuses new ones, closes the log. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const group of [...this.groups.values()]) {
      for (const conn of [...group.connections.values()]) this.disconnect(conn, "server-shutdown");
    }
    this.stopPing();
    await this.log.close();
  }

  private register(projectId: string, res: ServerResponse, cursor: string | undefined): Connection {
    const conn = new Connection(projectId, res, this.config.maxBufferedBytes);
    const group = this.groups.get(projectId) ?? this.openGroup(projectId);
    group.connections.set(conn.id, conn);
    this.connectionCount++;
    this.metrics.connections.inc();
    if (cursor !== undefined) this.metrics.reconnects.inc();
    if (this.presence) this.untrack.set(conn.id, this.presence.track(projectId, conn.id));
    conn.timer = setTimeout(() => this.disconnect(conn, "max-duration"), this.config.maxDurationMs);
    conn.timer.unref();
    this.startPing();
    this.logger.info({ projectId, connectionId: conn.id, connections: group.connections.size, cursor: cursor ?? null }, "stream connected");
    return conn;
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

  /** Sends the replay (or the reset) and returns the cursor `ready` reports. */
  private async replay(conn: Connection, result: ReadResult): Promise<Cursor> {
    if (result.kind === "reset") {
      this.metrics.resets.inc({ reason: result.reason });
      // The client refetches state and continues live from head.
      if (!conn.write(encodeReset({ reason: result.reason, cursor: result.head }), false)) {
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

  private reject(res: ServerResponse, projectId: string, frame: ErrorFrame): void {
    this.logger.info({ projectId, code: frame.code }, "stream rejected");
    endWith(res, encodeError(frame));
  }

  private disconnect(conn: Connection, reason: DisconnectReason, finalFrame?: Buffer): void {
    if (conn.closed) return;
    conn.closed = true;
    clearTimeout(conn.timer);
    const group = this.groups.get(conn.projectId);
    if (group?.connections.delete(conn.id)) {
      this.connectionCount--;
      this.metrics.connections.dec();
      this.metrics.disconnects.inc({ reason });
      this.untrack.get(conn.id)?.();
      this.untrack.delete(conn.id);
      if (group.connections.size === 0) {
        group.unsubscribe();
        this.groups.delete(conn.projectId);
      }
    }
    if (this.connectionCount === 0) this.stopPing();
    const fields = {
      projectId: conn.projectId,
      connectionId: conn.id,
      connections: group?.connections.size ?? 0,
      reason,
      eventsSent: conn.eventsSent,
      durationMs: Date.now() - conn.connectedAt,
    };
    if (reason === "slow-consumer") {
      this.logger.warn(fields, "stream disconnected");
      // Its buffer is full, so a close frame would never arrive; drop the socket, the client resumes by id.
      conn.res.destroy();
      return;
    }
    this.logger.info(fields, "stream disconnected");
    if (reason === "client-closed") return;
    endWith(conn.res, finalFrame ?? (isCloseReason(reason) ? encodeClose({ reason }) : undefined));
  }

  /** One timer for the whole service; each tick serialises one ping shared by every live connection. */
  private startPing(): void {
    if (this.pingTimer) return;
    this.pingTimer = setInterval(() => {
      const frame = encodePing(Date.now());
      for (const group of this.groups.values()) {
        for (const conn of group.connections.values()) {
          if (conn.isLive && !conn.write(frame, false)) this.disconnect(conn, "slow-consumer");
        }
      }
    }, this.config.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
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
