import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { parseCursor, type Cursor, type LoggedEvent } from "./protocol";
import { REDIS_BACKOFF, createRedisConnection, dropRedis, projectKeys, quitRedis } from "./redis-client";
import { entryToLogged, seqOfId } from "./redis-entries";
import { backoffDelay } from "../lib/backoff";
import { errorMessage } from "../lib/errors";

export type Listener = (event: LoggedEvent) => void;

interface TailListener {
  fn: Listener;
  /** Deliver entries with a greater seq; null while the start position is still being fetched. */
  after: number | null;
  /** Lowest head handed out for the project while `after` was unknown: the start may not be later. */
  floor: number | null;
  /** Entries that arrived while `after` was unknown, delivered once it is known. */
  buffer: LoggedEvent[];
  removed: boolean;
}

interface TailProject {
  key: string;
  /** Stream id of the last entry read for the project; null until every pending listener knows its start. */
  lastId: string | null;
  listeners: Set<TailListener>;
  pending: number;
  startMin: number | null;
}

export interface TailOptions {
  url: string;
  processName: string;
  blockMs: number;
  commandTimeoutMs: number;
  logger: Logger;
}

/** Entries per XREAD per stream; a backlog after a reconnect is read in several round trips. */
const READ_BATCH = 500;

/**
 * The process-wide live tail: ONE blocking connection runs `XREAD BLOCK` over every project that has
 * subscribers here, plus a private wake-up stream. Adding a project while the read is blocked XADDs to
 * the wake-up stream (from a second connection), so the read returns and restarts with the new key set;
 * unlike CLIENT UNBLOCK this cannot race with a read that has not reached Redis yet. A dropped connection
 * is reconnected with backoff by ioredis and the read is re-sent with the last delivered id per project,
 * so nothing is skipped or repeated.
 */
export class StreamTail {
  refs = 0;
  private readonly projects = new Map<string, TailProject>();
  private readonly wakeKey = `gs:tail:${randomUUID()}:wake`;
  private wakeId = "0-0";
  private reader: Redis | undefined;
  private waker: Redis | undefined;
  private inflight = false;
  private idle: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Settles on release, so the loop never waits out a read or a backoff stuck behind an outage. */
  private readonly stopped: Promise<null>;
  private stop: () => void = () => {};

  constructor(
    readonly registryKey: string,
    private readonly options: TailOptions,
    private readonly registry: TailRegistry,
  ) {
    this.stopped = new Promise((resolve) => (this.stop = () => resolve(null)));
  }

  add(projectId: string, fn: Listener, start: () => Promise<number>): () => void {
    this.start();
    let project = this.projects.get(projectId);
    if (!project) {
      project = { key: projectKeys(projectId).log, lastId: null, listeners: new Set(), pending: 0, startMin: null };
      this.projects.set(projectId, project);
    }
    const listener: TailListener = { fn, after: null, floor: null, buffer: [], removed: false };
    const owner = project;
    owner.listeners.add(listener);
    owner.pending++;
    void this.resolveStart(owner, listener, start);
    return () => {
      if (listener.removed) return;
      listener.removed = true;
      owner.listeners.delete(listener);
      if (listener.after === null) {
        owner.pending--;
        this.maybeActivate(owner);
      }
      if (owner.listeners.size === 0 && this.projects.get(projectId) === owner) this.projects.delete(projectId);
    };
  }

  observeHead(projectId: string, seq: number): void {
    for (const listener of this.projects.get(projectId)?.listeners ?? []) {
      if (listener.after === null) listener.floor = Math.min(listener.floor ?? seq, seq);
    }
  }

  /** Drops one reference; the last one closes the connections. */
  async release(): Promise<void> {
    if (--this.refs > 0) return;
    this.registry.forget(this);
    this.closed = true;
    this.stop();
    this.idle?.();
    if (this.reader) dropRedis(this.reader);
    await Promise.all([this.running, this.waker ? quitRedis(this.waker) : undefined]);
  }

  private start(): void {
    if (this.running) return;
    const { url, processName, blockMs, commandTimeoutMs, logger } = this.options;
    const reader = createRedisConnection({ url, name: `genstream:reader:${processName}`, logger, commandTimeoutMs, blockMs });
    this.reader = reader;
    this.waker = createRedisConnection({ url, name: `genstream:wake:${processName}`, logger, commandTimeoutMs });
    this.running = this.run(reader);
  }

  /** Fetches where a new listener starts; retried with backoff, unless a head handed out meanwhile can serve. */
  private async resolveStart(project: TailProject, listener: TailListener, start: () => Promise<number>): Promise<void> {
    for (let attempt = 1; !listener.removed && !this.closed; attempt++) {
      try {
        const seq = await start();
        return this.settle(project, listener, Math.min(seq, listener.floor ?? seq));
      } catch (err) {
        if (listener.floor !== null) return this.settle(project, listener, listener.floor);
        this.options.logger.warn({ err: errorMessage(err), attempt }, "event log subscription start failed; retrying with backoff");
        await Promise.race([delay(backoffDelay(attempt - 1, REDIS_BACKOFF), undefined, { ref: false }), this.stopped]);
      }
    }
  }

  private settle(project: TailProject, listener: TailListener, after: number): void {
    if (listener.removed) return;
    listener.after = after;
    const buffered = listener.buffer;
    listener.buffer = [];
    for (const logged of buffered) {
      if (seqOfCursor(logged.id) > after) this.call(listener, logged);
    }
    project.pending--;
    project.startMin = Math.min(project.startMin ?? after, after);
    this.maybeActivate(project);
  }

  /** A project is read from the lowest start of its listeners, once all of them are known. */
  private maybeActivate(project: TailProject): void {
    if (project.lastId !== null || project.pending > 0 || project.startMin === null) return;
    project.lastId = `${project.startMin}-0`;
    this.wake();
  }

  private wake(): void {
    if (this.idle) {
      const resume = this.idle;
      this.idle = undefined;
      resume();
      return;
    }
    if (!this.inflight || !this.waker) return;
    // The wake-up stream expires if this process dies; while it lives, each wake re-creates it.
    this.waker
      .multi()
      .xadd(this.wakeKey, "MAXLEN", "1", "*", "w", "1")
      .pexpire(this.wakeKey, 60_000)
      .exec()
      .catch((err: unknown) => this.options.logger.warn({ err: errorMessage(err) }, "event log reader wake-up failed"));
  }

  private async run(reader: Redis): Promise<void> {
    const { blockMs, logger } = this.options;
    let failures = 0;
    while (!this.closed) {
      const active = [...this.projects.values()].filter((p) => p.lastId !== null);
      if (active.length === 0) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        continue;
      }
      const keys = [this.wakeKey];
      const ids = [this.wakeId];
      for (const project of active) {
        keys.push(project.key);
        ids.push(project.lastId ?? "0-0");
      }
      this.inflight = true;
      let reply: [key: string, items: [id: string, fields: string[]][]][] | null = null;
      try {
        reply = await Promise.race([reader.xread("COUNT", READ_BATCH, "BLOCK", blockMs, "STREAMS", ...keys, ...ids), this.stopped]);
        failures = 0;
      } catch (err) {
        if (this.closed) break;
        failures++;
        logger.warn({ err: errorMessage(err), attempt: failures }, "event log reader failed; retrying with backoff");
        await Promise.race([delay(backoffDelay(failures - 1, REDIS_BACKOFF), undefined, { ref: false }), this.stopped]);
        continue;
      } finally {
        this.inflight = false;
      }
      if (reply && !this.closed) this.dispatch(reply, active);
    }
  }

  private dispatch(reply: [key: string, items: [id: string, fields: string[]][]][], active: TailProject[]): void {
    const byKey = new Map(active.map((p) => [p.key, p]));
    for (const [key, entries] of reply) {
      if (key === this.wakeKey) {
        this.wakeId = entries[entries.length - 1]?.[0] ?? this.wakeId;
        continue;
      }
      const project = byKey.get(key);
      // Unsubscribed (or re-subscribed with a new start) while the read was in flight.
      if (!project || project.listeners.size === 0) continue;
      for (const entry of entries) {
        project.lastId = entry[0];
        const logged = entryToLogged(entry, this.options.logger, { stream: key });
        if (!logged) continue;
        const seq = seqOfId(entry[0]);
        for (const listener of [...project.listeners]) {
          if (listener.after === null) listener.buffer.push(logged);
          else if (seq > listener.after) this.call(listener, logged);
        }
      }
    }
  }

  private call(listener: TailListener, logged: LoggedEvent): void {
    if (listener.removed) return;
    // One failing subscriber must not hide the event from the others or stop the reader.
    try {
      listener.fn(logged);
    } catch (err) {
      this.options.logger.error({ err, id: logged.id }, "event log listener failed");
    }
  }
}

function seqOfCursor(cursor: Cursor): number {
  return parseCursor(cursor)?.seq ?? 0;
}

/**
 * The live tails of a process, one per Redis URL and process name: every RedisEventLog given the same
 * registry shares one reader connection. The services build one event log per process, so each log
 * owning its registry (the default) is one reader per process; tests that stand in for several logs
 * of one process pass a shared registry.
 */
export class TailRegistry {
  private readonly tails = new Map<string, StreamTail>();

  acquire(options: TailOptions): StreamTail {
    const key = `${options.url}|${options.processName}`;
    let tail = this.tails.get(key);
    if (!tail) {
      tail = new StreamTail(key, options, this);
      this.tails.set(key, tail);
    }
    tail.refs++;
    return tail;
  }

  /** Keys of the tails still open (tests). */
  keys(): string[] {
    return [...this.tails.keys()];
  }

  forget(tail: StreamTail): void {
    if (this.tails.get(tail.registryKey) === tail) this.tails.delete(tail.registryKey);
  }
}
