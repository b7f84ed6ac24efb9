import { summarize, type Summary } from "../lib/stats";
import type { ProjectRef } from "./commands";
import { SseConnection, type Target } from "./sse-connection";

/** Loopback source addresses, rotated so a long run never runs out of ephemeral ports on one. */
const SOURCE_ADDRESSES = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
let opened = 0;

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
      const conn = new SseConnection(project.id, project.cookie, target, SOURCE_ADDRESSES[opened++ % SOURCE_ADDRESSES.length] ?? "127.0.0.1");
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
