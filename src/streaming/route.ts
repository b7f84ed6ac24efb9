/**
 * The stream's URL: `GET /api/projects/:projectId/events[?cursor=<epoch>:<seq>]`.
 * A path whose projectId is not 1-64 of [A-Za-z0-9_-] does not name a stream, so it does not
 * match (the server answers 404 as for any unknown path): such an id can only come from a bug
 * or a hand-made URL, never from the app, and it must not reach the authorizer or the log.
 */

export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const STREAM_PATH = /^\/api\/projects\/([^/]+)\/events\/?$/;

export function matchStreamPath(pathname: string): { projectId: string } | null {
  const match = STREAM_PATH.exec(pathname);
  const projectId = match?.[1];
  if (projectId === undefined || !PROJECT_ID_PATTERN.test(projectId)) return null;
  return { projectId };
}

/** The URL the browser opens; shared so client and server cannot drift. */
export function streamPath(projectId: string, cursor?: string): string {
  const base = `/api/projects/${encodeURIComponent(projectId)}/events`;
  return cursor ? `${base}?cursor=${encodeURIComponent(cursor)}` : base;
}
