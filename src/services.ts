import type { Logger } from "pino";
import type { StepFaults } from "../inngest/run-reporter";
import { createAuth, type Auth } from "./auth/create-auth";
import { authOrigins, secureCookiesFor } from "./auth/origins";
import { SessionRevocations } from "./auth/revocations";
import { authSecret } from "./auth/secret";
import { openDb, targetFromEnv, type DbHandle } from "./db/client";
import { loadServerEnv, type ServerEnv } from "./lib/env";
import { createLogger } from "./lib/logger";
import { createMetrics, type Metrics } from "./lib/metrics";
import { inngestJobQueue, type JobQueue } from "./server/jobs";
import { limits } from "./server/limits";
import { createStreamAccess, type StreamAccess } from "./server/stream-authorizer";
import { StreamSlots } from "./server/stream-limits";
import { createStreamingService, type StreamingService } from "./streaming";
import { ModelHealth } from "./generation/model/health";
import { modelConfigFromEnv } from "./generation/model/config";
import { engineRunsApi, engineRunsTarget } from "./server/engine-runs";
import { RunReconciler } from "./server/run-reconciler";

/**
 * Everything process-wide, built once by server.ts in dependency order and shared by every module
 * graph of the process (server.ts's own, and Next's route and page bundles) through `services()`.
 */
export interface AppServices {
  /** The parsed environment (src/lib/env.ts), after the `.env` files were loaded. */
  readonly config: ServerEnv;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly db: DbHandle;
  /** Session deletions seen by this process's auth, which the stream authorizer's cache obeys. */
  readonly revocations: SessionRevocations;
  readonly auth: Auth;
  /** Live streams held per user on this instance. */
  readonly slots: StreamSlots;
  readonly streaming: StreamingService;
  /** The stream authorizer's cached session lookup (stream.subscribe served outside Next, src/server/stream-rpc.ts). */
  readonly streamSessionUser: StreamAccess["sessionUser"];
  /** The stream authorizer's cached project owners (same path). */
  readonly streamProjectOwner: StreamAccess["projectOwner"];
  readonly jobs: JobQueue;
  /** The language model endpoint as /api/health reports it (probed at most every few seconds). */
  readonly modelHealth: ModelHealth;
  /** Ends running runs the job engine no longer has (started by server.ts once it listens). */
  readonly reconciler: RunReconciler;
  /** Test-only fault points for the generation job: set only when server.ts runs with the test controls. */
  readonly faults: StepFaults | undefined;
  /** Closes streams, the event log and the database. */
  close(): Promise<void>;
}

export interface BuildServicesOptions {
  config: ServerEnv;
  /** Test-only: the fault registry server.ts creates with the test controls. */
  faults?: StepFaults;
  /** The logger, when the caller made it first (server.ts logs before building). */
  logger?: Logger;
}

/** Builds the services in dependency order: config → logger, metrics → database → auth → streaming. */
export async function buildServices(options: BuildServicesOptions): Promise<AppServices> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, nodeEnv: config.NODE_ENV });
  const metrics = createMetrics({ defaultMetrics: true });
  // Fails first, with a clear message, when production has no BETTER_AUTH_SECRET.
  const secret = authSecret(config, logger);
  const db = await openDb(targetFromEnv(config));
  logger.info({ kind: db.kind }, "database ready");
  const revocations = new SessionRevocations();
  const auth = createAuth({ db: db.db, secret, logger, secureCookies: secureCookiesFor(config), revocations, ...authOrigins(config) });
  const slots = new StreamSlots();
  const { authorize, multiplex, sessionUser, projectOwner } = createStreamAccess({
    db: db.db,
    auth,
    slots,
    revocations,
    maxStreamsPerUser: limits.concurrentStreamsPerUser,
    log: logger,
  });
  const streaming = createStreamingService({ config, logger, metrics, authorize, multiplex });
  const modelHealth = new ModelHealth(modelConfigFromEnv(config));
  const reconciler = new RunReconciler({
    db: db.db,
    engine: engineRunsApi(engineRunsTarget(config)),
    reporter: { streaming, log: logger, metrics },
    log: logger,
    staleAfterMs: config.GENSTREAM_RUN_CHECK_AFTER_MS,
  });
  return {
    config,
    logger,
    metrics,
    db,
    revocations,
    auth,
    slots,
    streaming,
    streamSessionUser: sessionUser,
    streamProjectOwner: projectOwner,
    jobs: inngestJobQueue,
    modelHealth,
    reconciler,
    faults: options.faults,
    async close() {
      modelHealth.close();
      await reconciler.stop();
      await streaming.shutdown();
      await db.close();
    },
  };
}

/** The one process-wide slot (a registered symbol: every module graph and hot-reloaded copy finds the same). */
const SERVICES = Symbol.for("genstream.services");

interface Slot {
  promise: Promise<AppServices>;
  built?: AppServices;
}

const holder = globalThis as typeof globalThis & { [SERVICES]?: Slot };

export class ServicesNotBuiltError extends Error {
  override readonly name = "ServicesNotBuiltError";
}

/** server.ts: makes its services the process's. Once per process. */
export function publishServices(building: Promise<AppServices>): Promise<AppServices> {
  if (holder[SERVICES]) throw new Error("The services of this process were already published");
  const slot: Slot = { promise: building };
  holder[SERVICES] = slot;
  building.then(
    (built) => (slot.built = built),
    // A failed build (development's on-demand one) is tried again by the next caller.
    () => {
      if (holder[SERVICES] === slot) delete holder[SERVICES];
    },
  );
  return building;
}

/**
 * The process's services. In production server.ts must have built them (a route module loaded by
 * anything else, e.g. a bare `next start`, fails with this clear error instead of opening a second
 * database). In development and tests they are built on demand the first time (a bare `next dev`),
 * once per process: the slot holds the promise before it settles, so concurrent callers and hot
 * reloads share one build.
 */
export function services(): Promise<AppServices> {
  const slot = holder[SERVICES];
  if (slot) return slot.promise;
  if (process.env.NODE_ENV === "production") {
    return Promise.reject(
      new ServicesNotBuiltError(
        "Genstream's services were not built: start the app with server.ts (`npm start`), which builds them before it serves a request; `next start` alone is not supported.",
      ),
    );
  }
  return publishServices(buildServices({ config: loadServerEnv() }));
}

/**
 * The services if they are already built, else undefined; never builds. Only for code that runs at
 * module load and cannot await (the Inngest client's options, inngest/client.ts); everything else
 * awaits `services()`.
 */
export function builtServices(): AppServices | undefined {
  return holder[SERVICES]?.built;
}
