import type pino from "pino";
import type { Db } from "../db/client";
import type { StreamingService } from "../streaming/service";
import type { Metrics } from "../lib/metrics";
import type { Auth, AuthSession } from "../auth/create-auth";
import { sessionFromHeaders } from "../auth/session";
import { services } from "../services";
import type { JobQueue } from "./jobs";

/** Who is calling: the signed-in user of the request's session cookie. */
export type ContextUser = Pick<AuthSession["user"], "id" | "email" | "name">;

export interface Context {
  db: Db;
  streaming: StreamingService;
  jobs: JobQueue;
  log: pino.Logger;
  metrics: Pick<Metrics, "runDuration">;
  /** null without a valid session; `protectedProcedure` narrows it. */
  user: ContextUser | null;
  /**
   * A project's owner from a cache (owners never change), for projectAccessProcedure; set by the
   * stream procedures' node:http path (src/server/stream-rpc.ts). Without it the database is asked.
   */
  projectOwner?: (projectId: string) => Promise<string | null>;
}

export type ContextDeps = Omit<Context, "user"> & { auth: Auth };

/** A request's context from its headers (the session cookie), with explicit dependencies (tests). */
export async function buildContext(deps: ContextDeps, headers: Headers): Promise<Context> {
  const { auth, ...rest } = deps;
  const session = await sessionFromHeaders(auth, headers);
  const user = session ? { id: session.user.id, email: session.user.email, name: session.user.name } : null;
  return { ...rest, user };
}

/** Called by the fetch adapter with the request's headers and by server components with `headers()`. */
export async function createContext({ headers }: { headers: Headers }): Promise<Context> {
  const s = await services();
  return buildContext({ db: s.db.db, streaming: s.streaming, jobs: s.jobs, log: s.logger, metrics: s.metrics, auth: s.auth }, headers);
}
