import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Live streams held per user on this instance. A slot is taken by the stream authorizer (which sees
 * only the request) and given back when the response closes, however it ends: client gone, error
 * frame, server close; or taken by a multiplexed stream's subscription and given back when it ends.
 * Per instance: with several instances a user can hold this many on each.
 * Emits `release` (userId, slots still held) when a slot is given back.
 */
export class StreamSlots extends EventEmitter<{ release: [userId: string, held: number] }> {
  private readonly perUser = new Map<string, number>();
  private readonly held = new WeakMap<IncomingMessage, string>();
  private readonly closed = new WeakSet<IncomingMessage>();

  /** Must be called for every stream request before it is handled, so its slot is always returned. */
  bind(req: IncomingMessage, res: ServerResponse): void {
    res.once("close", () => {
      this.closed.add(req);
      this.release(req);
    });
  }

  /** Takes a slot for `userId` unless they hold `max`; a request already closed needs none. */
  tryAcquire(req: IncomingMessage, userId: string, max: number): boolean {
    if (this.closed.has(req) || this.held.has(req)) return true;
    if (!this.take(userId, max)) return false;
    this.held.set(req, userId);
    return true;
  }

  /**
   * A slot held by something other than a response (a multiplexed stream's subscription): the
   * returned function gives it back, once however often it is called; null when the user holds `max`.
   */
  tryAcquireHeld(userId: string, max: number): (() => void) | null {
    if (!this.take(userId, max)) return null;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.giveBack(userId);
    };
  }

  private take(userId: string, max: number): boolean {
    const held = this.perUser.get(userId) ?? 0;
    if (held >= max) return false;
    this.perUser.set(userId, held + 1);
    return true;
  }

  private release(req: IncomingMessage): void {
    const userId = this.held.get(req);
    if (userId === undefined) return;
    this.held.delete(req);
    this.giveBack(userId);
  }

  private giveBack(userId: string): void {
    const left = (this.perUser.get(userId) ?? 1) - 1;
    if (left > 0) this.perUser.set(userId, left);
    else this.perUser.delete(userId);
    this.emit("release", userId, left);
  }
}
