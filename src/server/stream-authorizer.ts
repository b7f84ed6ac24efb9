import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import { findProject } from "../db/queries/projects";
import type { Auth } from "../auth/create-auth";
import type { SessionRevocations } from "../auth/revocations";
import { sessionFromNodeHeaders } from "../auth/session";
import { TtlCache } from "../lib/ttl-cache";
import type { MultiplexAccess, StreamAuthorizer } from "../streaming/types";
import { limitMessages } from "./limits";
import type { StreamSlots } from "./stream-limits";

export interface StreamAuthorizerDeps {
  db: Db;
  auth: Auth;
  slots: StreamSlots;
  maxStreamsPerUser: number;
  log: Logger;
  /** The auth instance's count of ended sessions: a change empties the session cache. */
  revocations: SessionRevocations;
  /** How long a verified session is trusted for new streams of this instance (0: check every stream). */
  sessionCacheMs?: number;
}

/**
 * A verified session, remembered per Cookie header for a few seconds: every tab, reconnect and
 * reload of one browser opens a stream, and the session lookup (a database query) was most of the
 * cost of opening one. Revocation: any session deleted through this process's auth (sign-out,
 * revoke, user deletion) empties the cache at once (SessionRevocations, src/auth/revocations.ts); one ended on another
 * instance still opens new streams here for at most this long, never past the session's own expiry.
 * Streams already open were never closed by a sign-out, cache or not. Refusals are not cached.
 */
export const STREAM_SESSION_CACHE_MS = 10_000;
const CACHE_ENTRIES = 10_000;

interface CachedSession {
  userId: string;
  email: string;
  name: string;
  expiresAt: number;
}

/** The signed-in user of a request, as the tRPC context carries it (src/server/context.ts). */
export interface StreamUser {
  id: string;
  email: string;
  name: string;
}

/** Who may open which stream: the per-project stream's authorizer and the multiplexed stream's access, sharing one session cache. */
export interface StreamAccess {
  authorize: StreamAuthorizer;
  multiplex: MultiplexAccess;
  /**
   * The request's user from the same session cache: the multiplexed stream's subscribe and
   * unsubscribe calls (served outside Next, src/server/stream-rpc.ts) are part of its handshake and
   * are authenticated like opening a stream. Null without a valid session.
   */
  sessionUser: (req: IncomingMessage) => Promise<StreamUser | null>;
  /** A project's owner (null: no such project) from the same owner cache as `authorize`. */
  projectOwner: (projectId: string) => Promise<string | null>;
}

/**
 * Who may stream a project: its owner, signed in, within the concurrent-stream limit. The order
 * matters: without a session nothing is revealed (UNAUTHORIZED even for an unknown project).
 * A refusal becomes an `error` frame and the response ends (the streaming service does that).
 * A project's owner never changes (no transfer, no delete), so it is cached without expiry pressure;
 * the ownership check itself runs on every stream.
 *
 * The multiplexed stream (GET /api/stream) needs the session and a slot only: each subscription is
 * authorized by its tRPC mutation (projectProcedure) and takes one more slot of the same budget.
 */
export function createStreamAccess(deps: StreamAuthorizerDeps): StreamAccess {
  const sessionMs = deps.sessionCacheMs ?? STREAM_SESSION_CACHE_MS;
  const sessions = new TtlCache<CachedSession>({ ttlMs: sessionMs, maxEntries: CACHE_ENTRIES });
  let revocationsSeen = deps.revocations.generation;
  const owners = new TtlCache<string>({ ttlMs: 10 * 60_000, maxEntries: CACHE_ENTRIES });
  const lookUpSession = async (req: IncomingMessage): Promise<CachedSession | null> => {
    const session = await sessionFromNodeHeaders(deps.auth, req.headers);
    return session
      ? {
          userId: session.user.id,
          email: session.user.email,
          name: session.user.name,
          expiresAt: new Date(session.session.expiresAt).getTime(),
        }
      : null;
  };
  const sessionOf = async (req: IncomingMessage): Promise<CachedSession | null> => {
    if (deps.revocations.generation !== revocationsSeen) {
      revocationsSeen = deps.revocations.generation;
      sessions.clear();
    }
    const cookie = req.headers.cookie;
    return cookie && sessionMs > 0
      ? await sessions.getOrLoad(
          cookie,
          () => lookUpSession(req),
          (s) => s.expiresAt,
        )
      : await lookUpSession(req);
  };
  const tooMany = (fields: Record<string, unknown>) => {
    deps.log.info({ ...fields, limit: deps.maxStreamsPerUser }, "stream limit reached");
    return limitMessages.tooManyStreams(deps.maxStreamsPerUser);
  };
  const projectOwner = (projectId: string): Promise<string | null> =>
    owners.getOrLoad(projectId, async () => (await findProject(deps.db, projectId))?.ownerId ?? null);
  const authorize: StreamAuthorizer = async (projectId, req) => {
    const session = await sessionOf(req);
    if (!session) return { ok: false, code: "UNAUTHORIZED", message: "You are not signed in. Sign in to watch this project." };
    const ownerId = await projectOwner(projectId);
    if (ownerId === null) return { ok: false, code: "NOT_FOUND", message: `Project ${projectId} does not exist` };
    if (ownerId !== session.userId) {
      deps.log.warn({ projectId, userId: session.userId }, "stream access denied");
      return { ok: false, code: "FORBIDDEN", message: "You do not have access to this project." };
    }
    if (!deps.slots.tryAcquire(req, session.userId, deps.maxStreamsPerUser)) {
      // FORBIDDEN: the stream protocol has no rate-limit code; the client stops reconnecting and shows this.
      return { ok: false, code: "FORBIDDEN", message: tooMany({ projectId, userId: session.userId }) };
    }
    return { ok: true };
  };
  const multiplex: MultiplexAccess = {
    authenticate: async (req) => {
      const session = await sessionOf(req);
      if (!session) return { ok: false, code: "UNAUTHORIZED", message: "You are not signed in. Sign in to watch your projects." };
      if (!deps.slots.tryAcquire(req, session.userId, deps.maxStreamsPerUser)) {
        return { ok: false, code: "FORBIDDEN", message: tooMany({ userId: session.userId, multiplexed: true }) };
      }
      return { ok: true, userId: session.userId };
    },
    takeSubscriptionSlot: (userId) => {
      const release = deps.slots.tryAcquireHeld(userId, deps.maxStreamsPerUser);
      return release ? { ok: true, release } : { ok: false, message: limitMessages.tooManyStreams(deps.maxStreamsPerUser) };
    },
  };
  const sessionUser = async (req: IncomingMessage): Promise<StreamUser | null> => {
    const session = await sessionOf(req);
    return session ? { id: session.userId, email: session.email, name: session.name } : null;
  };
  return { authorize, multiplex, sessionUser, projectOwner };
}
