import type { Logger } from "pino";
import type { Db } from "../db/client";
import { findProject } from "../db/queries/projects";
import type { Auth } from "../auth/create-auth";
import { sessionFromNodeHeaders } from "../auth/session";
import type { StreamAuthorizer } from "../streaming/types";
import { limitMessages } from "./limits";
import type { StreamSlots } from "./stream-limits";

export interface StreamAuthorizerDeps {
  db: Db;
  auth: Auth;
  slots: StreamSlots;
  maxStreamsPerUser: number;
  log: Logger;
}

/**
 * Who may stream a project: its owner, signed in, within the concurrent-stream limit. The order
 * matters: without a session nothing is revealed (UNAUTHORIZED even for an unknown project).
 * A refusal becomes an `error` frame and the response ends (the streaming service does that).
 */
export function createStreamAuthorizer(deps: StreamAuthorizerDeps): StreamAuthorizer {
  return async (projectId, req) => {
    const session = await sessionFromNodeHeaders(deps.auth, req.headers);
    if (!session) return { ok: false, code: "UNAUTHORIZED", message: "You are not signed in. Sign in to watch this project." };
    const project = await findProject(deps.db, projectId);
    if (!project) return { ok: false, code: "NOT_FOUND", message: `Project ${projectId} does not exist` };
    if (project.ownerId !== session.user.id) {
      deps.log.warn({ projectId, userId: session.user.id }, "stream access denied");
      return { ok: false, code: "FORBIDDEN", message: "You do not have access to this project." };
    }
    if (!deps.slots.tryAcquire(req, session.user.id, deps.maxStreamsPerUser)) {
      deps.log.info({ projectId, userId: session.user.id, limit: deps.maxStreamsPerUser }, "stream limit reached");
      // FORBIDDEN: the stream protocol has no rate-limit code; the client stops reconnecting and shows this.
      return { ok: false, code: "FORBIDDEN", message: limitMessages.tooManyStreams(deps.maxStreamsPerUser) };
    }
    return { ok: true };
  };
}
