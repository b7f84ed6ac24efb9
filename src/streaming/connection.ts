import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";

/** A log position as numbers, parsed once per event so per-connection checks are a compare. */
export interface Position {
  epoch: string;
  seq: number;
}

interface Pending {
  frame: Buffer;
  pos: Position | null;
}

/**
 * One project's feed on one response: a per-project stream, or one subscription of a multiplexed
 * connection (`mux`, whose response and id it shares). Until `goLive`, live frames are queued (the
 * handshake is replaying); afterwards they are written straight through. Frames at or before the
 * last position already sent are dropped, so replay and live never duplicate.
 * Write methods return false when the response is over its buffer limit: the caller closes it.
 */
export class Connection {
  readonly id: string;
  readonly connectedAt = Date.now();
  readonly res: ServerResponse;
  eventsSent = 0;
  closed = false;
  timer: NodeJS.Timeout | undefined;
  /** Removes the presence entry (Redis), when there is one. */
  untrack: (() => void) | undefined;
  /** A subscription's stream slot (the user's budget), given back when it ends. */
  releaseSlot: (() => void) | undefined;
  /** A subscription's id as its client named it (echoed in its `ready` / `reset`). */
  subscriptionId: string | undefined;
  private live = false;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private last: Position | null = null;

  constructor(
    readonly projectId: string,
    res: ServerResponse,
    private readonly maxBufferedBytes: number,
    readonly mux?: MuxConnection,
  ) {
    this.id = mux ? mux.id : randomUUID();
    this.res = mux ? mux.res : res;
  }

  get isLive(): boolean {
    return this.live && !this.closed;
  }

  /** Control frames (ping, ready, reset) and the live path end here. */
  write(frame: Buffer, isEvent: boolean): boolean {
    if (this.closed) return true;
    this.res.write(frame);
    if (isEvent) this.eventsSent++;
    return this.res.writableLength <= this.maxBufferedBytes;
  }

  /**
   * Replay writes pace themselves on the socket instead of tripping the slow-consumer limit
   * (a long replay can exceed it on a healthy client). Returns false when the caller should await drain.
   */
  writeReplay(frame: Buffer, pos: Position | null): boolean {
    if (this.closed) return true;
    const ok = this.res.write(frame);
    this.eventsSent++;
    if (pos) this.last = pos;
    return ok;
  }

  /** Marks what the client already has (replay head, reset head) without sending an event. */
  markPosition(pos: Position | null): void {
    if (pos) this.last = pos;
  }

  /** A live event from the project's single log subscription; `frame` is shared by every connection. */
  deliver(frame: Buffer, pos: Position | null): boolean {
    if (this.closed) return true;
    if (!this.live) {
      this.pending.push({ frame, pos });
      this.pendingBytes += frame.length;
      return this.pendingBytes <= this.maxBufferedBytes;
    }
    if (pos && this.last && pos.epoch === this.last.epoch && pos.seq <= this.last.seq) return true;
    if (pos) this.last = pos;
    return this.write(frame, true);
  }

  /** Sends `ready`, then whatever arrived during replay and is newer than it, then switches to live. */
  goLive(ready: Buffer): boolean {
    this.live = true;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.write(ready, false)) return false;
    for (const p of pending) if (!this.deliver(p.frame, p.pos)) return false;
    return true;
  }
}

/**
 * A multiplexed stream (`GET /api/stream`) of one user: one response, many subscriptions (one
 * Connection per project, sharing this response and id). The buffer limit is the response's.
 */
export class MuxConnection {
  readonly id = randomUUID();
  readonly connectedAt = Date.now();
  readonly subscriptions = new Map<string, Connection>();
  /** Events sent by subscriptions that already ended (the live ones count their own). */
  endedEventsSent = 0;
  closed = false;
  /** After `connected` is written: from then on it gets pings. */
  live = false;
  timer: NodeJS.Timeout | undefined;
  /** Stops receiving cross-instance requests for this connection (Redis), when there are any. */
  releaseControl: (() => void) | undefined;

  constructor(
    readonly userId: string,
    readonly res: ServerResponse,
    private readonly maxBufferedBytes: number,
  ) {}

  get eventsSent(): number {
    let sent = this.endedEventsSent;
    for (const sub of this.subscriptions.values()) sent += sub.eventsSent;
    return sent;
  }

  /** Connection-wide frames (connected, ping). */
  write(frame: Buffer): boolean {
    if (this.closed) return true;
    this.res.write(frame);
    return this.res.writableLength <= this.maxBufferedBytes;
  }
}
