import { summarize, type Summary } from "../lib/stats";
import type { ProjectRef } from "./commands";
import { SseConnection, type StreamKind, type Target } from "./sse-connection";

/*
 * No source address is bound: bind-before-connect makes the kernel pick a port unique across every
 * destination, a search that grew to ~100% of the load client's CPU once ~30k ports were in use
 * (profiled: internalConnect). connect() alone needs a port unique per destination only, and each
 * server has its own port; connections end with a reset (no TIME_WAIT), so ports come back at once.
 */

export interface OpenResult {
  opened: number;
  failed: number;
  errors: string[];
  wallMs: number;
  perSecond: number;
  /** Connect call to `ready` frame, per connection. */
  readyMs: Summary;
}

/**
 * Opens `count` streams spread round-robin over `projects`, at most `concurrency` handshakes in
 * flight; resolves when every one is ready or failed.
 */
export async function openConnections(
  target: Target,
  projects: ProjectRef[],
  count: number,
  concurrency: number,
  offset: number,
  into: SseConnection[],
  kind: StreamKind = "project",
): Promise<OpenResult> {
  const started = performance.now();
  const readyMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const project = projects[(offset + i) % projects.length] ?? { id: "", cookie: "" };
      const conn = new SseConnection(project.id, project.cookie, target, kind);
      try {
        await conn.ready;
        readyMs.push(conn.readyAt - conn.startedAt);
        into.push(conn);
      } catch (err) {
        conn.close();
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wallMs = performance.now() - started;
  return {
    opened: readyMs.length,
    failed: errors.length,
    errors: [...new Set(errors)].slice(0, 5),
    wallMs,
    perSecond: (readyMs.length * 1000) / wallMs,
    readyMs: summarize(readyMs),
  };
}

export interface SubscribeResult {
  subscribed: number;
  failed: number;
  errors: string[];
  wallMs: number;
  perSecond: number;
  /** stream.subscribe sent -> `ready {projectId}` frame received, per subscription. */
  readyMs: Summary;
}

/**
 * Mux connections only: `perConnection` more subscriptions on each open connection, to projects of
 * its own account (same cookie) it does not have yet; at most `concurrency` in flight.
 */
export async function subscribeMore(
  conns: SseConnection[],
  projects: ProjectRef[],
  perConnection: number,
  concurrency: number,
): Promise<SubscribeResult> {
  const jobs: Array<{ conn: SseConnection; projectId: string }> = [];
  conns.forEach((conn, i) => {
    if (conn.closed || conn.kind !== "mux") return;
    const own = projects.filter((p) => p.cookie === conn.cookie && !conn.subscribed.includes(p.id));
    for (let k = 0; k < Math.min(perConnection, own.length); k++) {
      const project = own[(i + k) % own.length];
      if (project) jobs.push({ conn, projectId: project.id });
    }
  });
  const started = performance.now();
  const readyMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (!job) break;
      try {
        const t = await job.conn.subscribe(job.projectId);
        readyMs.push(t.readyAt - t.sentAt);
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  const wallMs = performance.now() - started;
  return {
    subscribed: readyMs.length,
    failed: errors.length,
    errors: [...new Set(errors)].slice(0, 5),
    wallMs,
    perSecond: (readyMs.length * 1000) / wallMs,
    readyMs: summarize(readyMs),
  };
}
