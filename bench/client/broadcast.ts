import { summarize, type Summary } from "../lib/stats";
import { completion } from "./deadline";
import { watchLoop, type LoopDelay } from "./loop-delay";
import type { SseConnection, Target } from "./sse-connection";
import { trigger } from "./trigger";

export interface BroadcastResult {
  connections: number;
  received: number;
  misses: number;
  unexpected: number;
  /** Receipt wall clock minus the server's stamp, one value per connection. */
  latencyMs: Summary;
  /** Time the server spent inside publish: serialise and write to every connection (memory log: synchronous). */
  serverPublishMs: number;
  clientLoop: LoopDelay;
}

/**
 * One broadcast of one event to every connection of the project: triggers the publish, then waits
 * until every connection has the event (or the deadline declares the rest missed).
 */
export async function measureBroadcast(
  target: Target,
  conns: SseConnection[],
  projectId: string,
  tag: string,
  payloadBytes: number,
  deadlineMs: number,
): Promise<BroadcastResult> {
  const mine = conns.filter((c) => c.projectId === projectId && !c.closed);
  const latency = new Float64Array(mine.length).fill(Number.NaN);
  let outstanding = mine.length;
  let unexpected = 0;
  const finished = completion(deadlineMs);
  mine.forEach((conn, slot) => {
    conn.slot = slot;
    conn.onBench = (c, t, index, stamp, receivedAt) => {
      if (t !== tag || index !== 0 || !Number.isNaN(latency[c.slot])) {
        unexpected++;
        return;
      }
      latency[c.slot] = receivedAt - stamp;
      if (--outstanding === 0) finished.done();
    };
    conn.onClose = (c) => {
      if (Number.isNaN(latency[c.slot]) && --outstanding === 0) finished.done();
    };
  });
  if (mine.length === 0) finished.done();
  const loop = watchLoop();
  const published = await trigger(target, projectId, { count: 1, payloadBytes, tag });
  finished.arm();
  await finished.promise;
  const clientLoop = loop();
  for (const conn of mine) {
    conn.onBench = null;
    conn.onClose = null;
  }
  const got = latency.filter((v) => !Number.isNaN(v));
  return {
    connections: mine.length,
    received: got.length,
    misses: mine.length - got.length,
    unexpected,
    latencyMs: summarize(got),
    serverPublishMs: published.publishMs,
    clientLoop,
  };
}
