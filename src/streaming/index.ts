import type { Logger } from "pino";
import type { ServerEnv } from "../lib/env";
import type { Metrics } from "../lib/metrics";
import { GuardedEventLog } from "./guarded-log";
import { MemoryEventLog } from "./memory-log";
import { RedisEventLog } from "./redis-log";
import { RedisStreamControl } from "./redis-control";
import { RedisPresence } from "./redis-presence";
import { StreamingService, type StreamingServiceOptions } from "./service";
import type { MultiplexAccess, StreamAuthorizer } from "./types";

export interface StreamingDeps {
  config: Pick<ServerEnv, "REDIS_URL">;
  logger: Logger;
  metrics: Metrics;
  authorize: StreamAuthorizer;
  multiplex: MultiplexAccess;
}

/** The process's streaming service (built once, by src/services.ts). */
export function createStreamingService(deps: StreamingDeps): StreamingService {
  return new StreamingService({
    ...createEventLog(deps),
    logger: deps.logger,
    metrics: deps.metrics,
    authorize: deps.authorize,
    multiplex: deps.multiplex,
  });
}

/**
 * The one place the log backend is chosen: Redis Streams with REDIS_URL (plus presence, so a send
 * handled by another instance still finds the connection, and control, so a subscribe handled by
 * another instance reaches the multiplexed connection), else the in-memory log. Redis publishing
 * is guarded by a timeout and a circuit breaker (guarded-log.ts); the in-memory log cannot go away.
 */
function createEventLog({ config, logger }: StreamingDeps): Pick<StreamingServiceOptions, "log" | "presence" | "control"> {
  if (!config.REDIS_URL) return { log: new MemoryEventLog({ logger }) };
  const redisLog = new RedisEventLog({ url: config.REDIS_URL, logger });
  const guarded = new GuardedEventLog(redisLog, { logger });
  logger.info({ backend: "redis" }, "event log backend selected");
  return {
    log: guarded,
    presence: new RedisPresence({ redis: redisLog.redis, logger }),
    control: new RedisStreamControl({ url: config.REDIS_URL, redis: redisLog.redis, processName: String(process.pid), logger }),
  };
}

export { StreamingService, type StreamingServiceOptions, type StreamingStats, type DisconnectReason } from "./service";
export { MemoryEventLog, type MemoryEventLogOptions } from "./memory-log";
export { InvalidEventError } from "./errors";
export { GuardedEventLog, isEventLogOutage, publishThroughOutage } from "./guarded-log";
export { matchMuxStreamPath, matchStreamPath, muxStreamPath, streamPath } from "./route";
