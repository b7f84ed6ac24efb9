import { summarize, type Summary } from "../lib/stats";
import type { ProjectRef } from "./commands";
import { SseConnection, type Target } from "./sse-connection";

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
): Promise<OpenResult> {
  const started = performance.now();
  const readyMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const project = projects[(offset + i) % projects.length] ?? { id: "", cookie: "" };
      const conn = new SseConnection(project.id, project.cookie, target);
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
