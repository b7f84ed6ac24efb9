// First: the .env files, before any module that reads the environment while it loads.
import "./src/lib/load-env-files";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import next from "next";
import { loadEnvFiles } from "./src/lib/env-files";
import { parseServerEnv, requireInngestSigningKey, type ServerEnv } from "./src/lib/env";
import { createLogger, type Logger } from "./src/lib/logger";
import type { FaultRegistry } from "./src/server/faults";
import { buildServices, publishServices, type AppServices } from "./src/services";
import { resolveTestControls, type TestControlsGate } from "./src/server/test-controls-gate";
import { createRequestListener } from "./src/server/request-listener";
import { createStreamRpcHandler } from "./src/server/stream-rpc";

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The app server: Next handles pages, tRPC and the Inngest endpoint; the project streams are served
 * straight from node:http, because that hot path writes one pre-serialised frame to every
 * connection (see DESIGN.md, "Why the stream is not a tRPC subscription"). It builds the process's
 * services (src/services.ts) once, before Next serves anything.
 */
async function main(): Promise<void> {
  const { files, errors } = loadEnvFiles();
  let config: ServerEnv;
  try {
    config = parseServerEnv(process.env);
  } catch (error) {
    // No configured logger without a valid environment: say it in the production format.
    createLogger({ nodeEnv: "production" }).fatal({ err: error }, "server failed to start");
    process.exit(1);
  }
  // Asynchronous writes (flushed at exit): the stream path logs every connect and disconnect.
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, nodeEnv: config.NODE_ENV, sync: false });
  if (files.length > 0) log.info({ files }, "environment files loaded");
  for (const error of errors) log.error({ error }, "environment file not loaded");
  try {
    await serve(config, log);
  } catch (error) {
    log.fatal({ err: error }, "server failed to start");
    log.flush();
    process.exit(1);
  }
}

async function serve(config: ServerEnv, log: Logger): Promise<void> {
  // First: a production server with the test-only controls switched on by mistake refuses to start.
  const controls = resolveTestControls(config);
  // Production verifies the job engine's signatures: without INNGEST_SIGNING_KEY it does not start.
  requireInngestSigningKey(config);
  const dev = config.NODE_ENV !== "production";
  const started = performance.now();
  const faults = controls.enabled ? new (await import("./src/server/faults")).FaultRegistry(log) : undefined;
  // Published before Next prepares, so every route module Next loads finds them.
  const building = publishServices(buildServices({ config, logger: log, ...(faults ? { faults } : {}) }));
  const app = next({ dev, hostname: config.HOSTNAME, port: config.PORT });
  const prepared = app.prepare();
  // Awaited below; until then a failure of the services (secrets, database) is the one to report.
  prepared.catch(() => undefined);
  const services = await building;
  await prepared;

  const production = createRequestListener({
    streaming: services.streaming,
    slots: services.slots,
    log,
    trustProxy: config.GENSTREAM_TRUST_PROXY === "1",
    streamRpc: createStreamRpcHandler({
      context: { db: services.db.db, streaming: services.streaming, jobs: services.jobs, log: services.logger, metrics: services.metrics },
      sessionUser: services.streamSessionUser,
      projectOwner: services.streamProjectOwner,
    }),
    fallback: app.getRequestHandler(),
  });
  const listener = controls.enabled && faults ? await mountTestControls(production, controls, services, faults) : production;
  const server = createServer(listener);
  // Streams are long-lived; Node's default request timeout would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOSTNAME, resolve));
  services.reconciler.start();
  log.info(
    {
      port: config.PORT,
      dev,
      database: services.db.kind,
      eventLog: services.streaming.logKind,
      testControls: controls.enabled,
      startupMs: Math.round(performance.now() - started),
    },
    "server listening",
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "server stopping");
    server.close();
    server.closeAllConnections();
    void services.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/**
 * Test runs only (GENSTREAM_TEST_CONTROLS=1, checked by the gate): /api/test/* around the production
 * listener, with the end-to-end suite's controls and the benchmark's load generator. Loaded only
 * then, so a deployment never even imports them.
 */
async function mountTestControls(
  production: Listener,
  gate: TestControlsGate,
  services: AppServices,
  faults: FaultRegistry,
): Promise<Listener> {
  const [{ withTestControls, streamTestControls }, { benchLoadControl }] = await Promise.all([
    import("./src/server/test-controls"),
    import("./bench/server/load-control"),
  ]);
  const { streaming, logger: log } = services;
  return withTestControls(production, {
    gate,
    log,
    controls: [streamTestControls({ streaming, faults, log }), benchLoadControl(streaming)],
  });
}

void main();
