import { setTimeout as sleep } from "node:timers/promises";

/** The trigger body both servers accept: `POST /api/test/projects/:projectId/publish`. */
export interface PublishRequest {
  count: number;
  payloadBytes: number;
  tag: string;
  ratePerSec?: number;
}

export function parsePublishRequest(value: unknown): PublishRequest | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const { count, payloadBytes = 0, tag, ratePerSec } = v;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1) return null;
  if (typeof payloadBytes !== "number" || !Number.isInteger(payloadBytes) || payloadBytes < 0) return null;
  if (typeof tag !== "string" || !/^[A-Za-z0-9_-]{1,40}$/.test(tag)) return null;
  if (ratePerSec !== undefined && (typeof ratePerSec !== "number" || ratePerSec <= 0)) return null;
  return { count, payloadBytes, tag, ...(ratePerSec === undefined ? {} : { ratePerSec }) };
}

const wallClock = (): number => performance.timeOrigin + performance.now();

export interface PublishResult {
  published: number;
  /** Time from emit to the end of the tick that flushed its writes (serialise + every write), summed and worst. */
  publishMs: number;
  maxPublishMs: number;
}

/**
 * The same open-loop generator as Genstream's publish test control: each event is stamped with the
 * wall clock just before it is emitted, or, with a rate, with the time it was due.
 */
export async function generate(request: PublishRequest, emit: (i: number, stamp: number) => void): Promise<PublishResult> {
  const intervalMs = request.ratePerSec ? 1000 / request.ratePerSec : 0;
  const start = wallClock();
  const result: PublishResult = { published: 0, publishMs: 0, maxPublishMs: 0 };
  for (let i = 0; i < request.count; i++) {
    const due = start + i * intervalMs;
    const ahead = due - wallClock();
    if (ahead > 0) await sleep(Math.ceil(ahead));
    const before = performance.now();
    emit(i, intervalMs > 0 ? due : performance.timeOrigin + before);
    // Node flushes the corked response writes on the next tick: wait for them, so the time includes every write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const took = performance.now() - before;
    result.publishMs += took;
    result.maxPublishMs = Math.max(result.maxPublishMs, took);
    result.published++;
  }
  return result;
}
