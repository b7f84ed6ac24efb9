import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import type { DbHandle, DbTarget } from "../db/client";
import { sql } from "drizzle-orm";
import type { Auth } from "../auth/create-auth";
import { buildContext, type Context, type ContextDeps } from "../server/context";
import { createCaller } from "../server/root";
import { createRequestListener } from "../server/request-listener";
import { createStreamAccess } from "../server/stream-authorizer";
import { createStreamRpcHandler } from "../server/stream-rpc";
import { StreamSlots } from "../server/stream-limits";
import { limits } from "../server/limits";
import { MemoryEventLog, StreamingService } from "../streaming";
import { connectedFrameSchema, readyFrameSchema } from "../streaming/protocol";
import { muxStreamPath, streamPath } from "../streaming/route";
import { StreamClient } from "../streaming/test-harness";
import { createTestAuth } from "./auth";
import { SessionRevocations } from "../auth/revocations";
import { createMetrics } from "../lib/metrics";
import { openTestDb } from "./databases";
import { RecordingJobs } from "./recording-jobs";
import { trpcNodeHandler } from "./trpc-node";

/**
 * The app's server side on one test database: real auth, the real request listener (security
 * headers, body limit, streams behind the real authorizer) with tRPC's fetch handler where Next
 * would be, on a port of its own.
 */
export interface AppFixture {
  handle: DbHandle;
  auth: Auth;
  streaming: StreamingService;
  slots: StreamSlots;
  jobs: RecordingJobs;
  deps: ContextDeps;
  baseUrl: string;
  context(headers: Headers): Promise<Context>;
  caller(headers: Headers): Promise<ReturnType<typeof createCaller>>;
  streamUrl(projectId: string, cursor?: string): string;
  /** Opens the project's stream with the cookie and resolves with the connection id of `ready`. */
  connect(projectId: string, cookie: string): Promise<string>;
  muxUrl(): string;
  /** Opens the multiplexed stream with the cookie and resolves with the client and the id of `connected`. */
  connectMux(cookie: string): Promise<{ client: StreamClient; connectionId: string }>;
  /** Row counts of every table, to prove a rejected call changed nothing. */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function openAppFixture(
  target: DbTarget,
  /** `streamRpcViaNext`: stream.subscribe / unsubscribe go to the fallback (as through Next) instead of src/server/stream-rpc.ts. */
  options: { maxStreamsPerUser?: number; streamRpcViaNext?: boolean } = {},
): Promise<AppFixture> {
  const silent = pino({ level: "silent" });
  const handle = await openTestDb(target);
  const revocations = new SessionRevocations();
  const auth = createTestAuth(handle.db, { revocations });
  const slots = new StreamSlots();
  const metrics = createMetrics();
  const { authorize, multiplex, sessionUser, projectOwner } = createStreamAccess({
    db: handle.db,
    auth,
    slots,
    revocations,
    maxStreamsPerUser: options.maxStreamsPerUser ?? limits.concurrentStreamsPerUser,
    log: silent,
  });
  const streaming = new StreamingService({ log: new MemoryEventLog(), logger: silent, authorize, multiplex, metrics });
  const jobs = new RecordingJobs();
  const deps: ContextDeps = { db: handle.db, streaming, jobs, log: silent, metrics, auth };
  const context = (headers: Headers) => buildContext(deps, headers);
  const server = http.createServer(
    createRequestListener({
      streaming,
      slots,
      log: silent,
      trustProxy: false,
      ...(options.streamRpcViaNext
        ? {}
        : {
            streamRpc: createStreamRpcHandler({
              context: { db: handle.db, streaming, jobs, log: silent, metrics },
              sessionUser,
              projectOwner,
            }),
          }),
      fallback: trpcNodeHandler(context),
    }),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: StreamClient[] = [];
  const streamUrl = (projectId: string, cursor?: string) => `${baseUrl}${streamPath(projectId, cursor)}`;

  return {
    handle,
    auth,
    streaming,
    slots,
    jobs,
    deps,
    baseUrl,
    context,
    caller: async (headers) => createCaller(await context(headers)),
    streamUrl,
    connect: async (projectId, cookie) => {
      const client = await StreamClient.open(streamUrl(projectId), { cookie });
      clients.push(client);
      const ready = await client.waitForEvent("ready");
      return readyFrameSchema.parse(JSON.parse(ready.data)).connectionId;
    },
    muxUrl: () => `${baseUrl}${muxStreamPath()}`,
    connectMux: async (cookie) => {
      const client = await StreamClient.open(`${baseUrl}${muxStreamPath()}`, { cookie });
      clients.push(client);
      const connected = await client.waitForEvent("connected");
      return { client, connectionId: connectedFrameSchema.parse(JSON.parse(connected.data)).connectionId };
    },
    counts: () => tableCounts(handle),
    close: async () => {
      for (const client of clients) client.close();
      server.closeAllConnections();
      server.close();
      await streaming.shutdown();
      await handle.close();
    },
  };
}

const TABLES = ["user", "session", "account", "verification", "projects", "messages", "runs", "artifacts", "run_outputs"] as const;

async function tableCounts(handle: DbHandle): Promise<Record<string, number>> {
  const selects = TABLES.map((t) => `(select count(*)::int from "${t}") as "${t}"`).join(", ");
  const result: unknown = await handle.db.execute(sql.raw(`select ${selects}`));
  // node-postgres and PGlite both answer `{ rows }`.
  const rows = typeof result === "object" && result !== null && "rows" in result ? result.rows : null;
  const row: unknown = Array.isArray(rows) ? rows[0] : null;
  if (typeof row !== "object" || row === null) throw new Error("count query returned no row");
  const counts: Record<string, number> = {};
  for (const t of TABLES) counts[t] = Number((row as Record<string, unknown>)[t]);
  return counts;
}
