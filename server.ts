import { createServer } from "node:http";
import next from "next";
import { env, requireInngestSigningKey } from "./src/lib/env";
import { log } from "./src/lib/logger";
import { getDb } from "./src/db/client";
import { getAuth } from "./src/auth/server";
import { getStreamingService } from "./src/streaming";
import { testControlsGate } from "./src/server/test-controls";
import { limits } from "./src/server/limits";
import { createRequestListener } from "./src/server/request-listener";
import { createStreamAuthorizer } from "./src/server/stream-authorizer";
import { StreamSlots } from "./src/server/stream-limits";

/**
 * The app server: Next handles pages, tRPC and the Inngest endpoint; the project streams are served
 * straight from node:http, because that hot path writes one pre-serialised frame to every
 * connection (see DESIGN.md, "Why the stream is not a tRPC subscription").
 */
async function main(): Promise<void> {
  // First: a production server with the test-only controls switched on by mistake refuses to start.
  const controls = testControlsGate();
  // Production verifies the job engine's signatures: without INNGEST_SIGNING_KEY it does not start.
  requireInngestSigningKey(env);
  const dev = env.NODE_ENV !== "production";
  const started = performance.now();
  const app = next({ dev, hostname: env.HOSTNAME, port: env.PORT });
  const handle = app.getRequestHandler();
  // getAuth fails here, with a clear message, when production has no BETTER_AUTH_SECRET.
  const [db, auth] = await Promise.all([getDb(), getAuth(), app.prepare()]);

  const streaming = getStreamingService();
  const slots = new StreamSlots();
  streaming.setAuthorizer(
    createStreamAuthorizer({ db: db.db, auth, slots, maxStreamsPerUser: limits.concurrentStreamsPerUser, log }),
  );

  const server = createServer(
    createRequestListener({ streaming, slots, log, trustProxy: env.GENSTREAM_TRUST_PROXY === "1", testControls: controls, fallback: handle }),
  );
  // Streams are long-lived; Node's default request timeout would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve) => server.listen(env.PORT, env.HOSTNAME, resolve));
  log.info(
    { port: env.PORT, dev, database: db.kind, eventLog: streaming.logKind, testControls: controls.enabled, startupMs: Math.round(performance.now() - started) },
    "server listening",
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "server stopping");
    streaming.shutdown();
    server.close();
    server.closeAllConnections();
    void db.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "server failed to start");
  process.exit(1);
});
