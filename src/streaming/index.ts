import { env } from "../lib/env";
import { log } from "../lib/logger";
import type { CircuitState } from "../lib/circuit-breaker";
import { GuardedEventLog } from "./guarded-log";
import { MemoryEventLog } from "./memory-log";
import { RedisEventLog } from "./redis-log";
import { RedisPresence } from "./redis-presence";
import { StreamingService, type StreamingServiceOptions } from "./service";

/**
 * The process-wide streaming service. It lives on globalThis because Next builds separate
 * module graphs (route handlers, server components, the custom server) and hot reload re-evaluates
 * modules: a module-scope instance would split connections and publishers across copies.
 */
const globalForStreaming = globalThis as unknown as { __genstreamStreaming?: StreamingService; __genstreamLogGuard?: GuardedEventLog };

export function getStreamingService(): StreamingService {
  return (globalForStreaming.__genstreamStreaming ??= new StreamingService({ ...createEventLog(), logger: log }));
}

/**
 * The one place the log backend is chosen: Redis Streams with REDIS_URL (plus presence, so a send
 * handled by another instance still finds the connection), else the in-memory log. Redis publishing
 * is guarded by a timeout and a circuit breaker (guarded-log.ts); the in-memory log cannot go away.
 */
function createEventLog(): Pick<StreamingServiceOptions, "log" | "presence"> {
  if (!env.REDIS_URL) return { log: new MemoryEventLog() };
  const redisLog = new RedisEventLog({ url: env.REDIS_URL, logger: log });
  const guarded = new GuardedEventLog(redisLog, { logger: log });
  globalForStreaming.__genstreamLogGuard = guarded;
  log.info({ backend: "redis" }, "event log backend selected");
  return { log: guarded, presence: new RedisPresence({ redis: redisLog.redis, logger: log }) };
}

/** The publish circuit's state, or null when publishing is not guarded (in-memory log). */
export function eventLogCircuit(): CircuitState | null {
  return globalForStreaming.__genstreamLogGuard?.breakerState ?? null;
}

export { StreamingService, type StreamingServiceOptions, type StreamingStats, type DisconnectReason } from "./service";
export { MemoryEventLog, type MemoryEventLogOptions } from "./memory-log";
export { InvalidEventError } from "./errors";
export { GuardedEventLog, isEventLogOutage, publishThroughOutage } from "./guarded-log";
export { matchStreamPath, streamPath } from "./route";
