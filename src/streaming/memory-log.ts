import { randomBytes } from "node:crypto";
import { silentLogger, type Logger } from "../lib/logger";
import { streamConfig } from "./config";
import { Fifo } from "./fifo";
import { formatCursor, parseCursor, type Cursor, type LoggedEvent, type ProgressEvent } from "./protocol";
import type { EventLog, ReadResult } from "./types";

export interface MemoryEventLogOptions {
  /** Keep at most this many events per project (default: streamConfig.retentionEvents). */
  retentionEvents?: number;
  /** Drop events older than this (default: streamConfig.retentionMs). */
  retentionMs?: number;
  /** Keys remembered for dedupe; never fewer than retentionEvents (default: 2 x retentionEvents). */
  keyIndexSize?: number;
  /** Clock for retention by age; injectable so tests need no waiting. */
  now?: () => number;
  /** Where a failing listener is reported (default: nowhere). */
  logger?: Logger;
}

interface Entry {
  logged: LoggedEvent;
  at: number;
}

interface ProjectLog {
  /** Random per process: a restart makes every old cursor unknown, so clients get `reset`, not a wrong replay. */
  epoch: string;
  /** Last assigned seq; seqs are contiguous, so the ring's oldest seq is `seq - entries.length + 1`. */
  seq: number;
  entries: Fifo<Entry>;
  /** Insertion-ordered, so the first key is the oldest and eviction is O(1). */
  keys: Set<string>;
}

type Listener = (event: LoggedEvent) => void;

/** The embedded progress log: one in-memory ring per project. */
export class MemoryEventLog implements EventLog {
  readonly kind = "memory" as const;
  private readonly retentionEvents: number;
  private readonly retentionMs: number;
  private readonly keyIndexSize: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly projects = new Map<string, ProjectLog>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private closed = false;

  constructor(options: MemoryEventLogOptions = {}) {
    this.retentionEvents = Math.max(1, options.retentionEvents ?? streamConfig.retentionEvents);
    this.retentionMs = options.retentionMs ?? streamConfig.retentionMs;
    this.keyIndexSize = Math.max(this.retentionEvents, options.keyIndexSize ?? 2 * this.retentionEvents);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  async append(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    if (this.closed) throw new Error("event log is closed");
    const project = this.project(projectId);
    if (project.keys.has(key)) return null;
    project.keys.add(key);
    if (project.keys.size > this.keyIndexSize) {
      const oldest = project.keys.values().next();
      if (!oldest.done) project.keys.delete(oldest.value);
    }
    project.seq++;
    const logged: LoggedEvent = { id: formatCursor(project.epoch, project.seq), key, event };
    project.entries.push({ logged, at: this.now() });
    this.prune(project);
    this.notify(projectId, logged);
    return logged;
  }

  async readAfter(projectId: string, cursor: Cursor | undefined): Promise<ReadResult> {
    const project = this.project(projectId);
    this.prune(project);
    const head = formatCursor(project.epoch, project.seq);
    if (cursor === undefined) return { kind: "events", events: [], head };
    const parsed = parseCursor(cursor);
    if (!parsed) return { kind: "reset", reason: "malformed-cursor", head };
    // Epochs are random per project and per process, so another project's cursor lands here too.
    if (parsed.epoch !== project.epoch) return { kind: "reset", reason: "unknown-log", head };
    if (parsed.seq > project.seq) return { kind: "reset", reason: "future-cursor", head };
    const oldestSeq = project.seq - project.entries.length + 1;
    if (parsed.seq < oldestSeq - 1) return { kind: "reset", reason: "retention", head };
    const events = project.entries.sliceFrom(parsed.seq + 1 - oldestSeq).map((e) => e.logged);
    return { kind: "events", events, head };
  }

  async head(projectId: string): Promise<Cursor> {
    const project = this.project(projectId);
    return formatCursor(project.epoch, project.seq);
  }

  subscribe(projectId: string, listener: Listener): () => void {
    this.project(projectId);
    let set = this.listeners.get(projectId);
    if (!set) {
      set = new Set();
      this.listeners.set(projectId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(projectId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(projectId);
    };
  }

  async ping(): Promise<void> {
    // In-process: always answers.
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.projects.clear();
  }

  private project(projectId: string): ProjectLog {
    let project = this.projects.get(projectId);
    if (!project) {
      project = { epoch: randomBytes(9).toString("base64url"), seq: 0, entries: new Fifo(), keys: new Set() };
      this.projects.set(projectId, project);
    }
    return project;
  }

  private prune(project: ProjectLog): void {
    while (project.entries.length > this.retentionEvents) project.entries.shift();
    const cutoff = this.now() - this.retentionMs;
    for (let oldest = project.entries.peek(); oldest && oldest.at < cutoff; oldest = project.entries.peek()) {
      project.entries.shift();
    }
  }

  private notify(projectId: string, logged: LoggedEvent): void {
    const set = this.listeners.get(projectId);
    if (!set) return;
    for (const listener of set) {
      // One failing subscriber must not hide the event from the others or fail the publisher.
      try {
        listener(logged);
      } catch (err) {
        this.logger.error({ err, projectId, id: logged.id }, "event log listener failed");
      }
    }
  }
}
