import { ID_PATTERN } from "../lib/ids";

/**
 * The stream's URL: `GET /api/projects/:projectId/events[?cursor=<epoch>:<seq>]`, built and matched
 * here only, so the browser's client and the server cannot drift. A path whose projectId breaks the
 * id rule (src/lib/ids.ts) does not name a stream, so it does not match (the server answers 404 as
 * for any unknown path): such an id can only come from a bug or a hand-made URL, never from the
 * app, and it must not reach the authorizer or the log.
 */

const STREAM_PATH = /^\/api\/projects\/([^/]+)\/events\/?$/;

export function matchStreamPath(pathname: string): { projectId: string } | null {
  const match = STREAM_PATH.exec(pathname);
  const projectId = match?.[1];
  if (projectId === undefined || !ID_PATTERN.test(projectId)) return null;
  return { projectId };
}

/** The path a stream client opens; without a cursor (null) the server starts "from now on". */
export function streamPath(projectId: string, cursor?: string | null): string {
  const base = `/api/projects/${encodeURIComponent(projectId)}/events`;
  return cursor ? `${base}?cursor=${encodeURIComponent(cursor)}` : base;
}

/**
 * The multiplexed stream, one per browser: `GET /api/stream`. It takes no query: its subscriptions
 * and their cursors are given by `stream.subscribe` once it is open.
 */
const MUX_STREAM_PATH = "/api/stream";

export function matchMuxStreamPath(pathname: string): boolean {
  return pathname === MUX_STREAM_PATH || pathname === `${MUX_STREAM_PATH}/`;
}

export function muxStreamPath(): string {
  return MUX_STREAM_PATH;
}
