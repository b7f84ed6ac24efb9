import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { backoffDelay, type BackoffShape } from "../lib/backoff";
import { errorMessage } from "../lib/errors";

/**
 * Redis plumbing shared by the Redis event log and presence: connections with timeouts and
 * reconnect backoff, the error callers see when Redis cannot answer, and EVALSHA with EVAL fallback.
 */

/** Redis could not answer in time (down, unreachable, timed out, or refused the command). */
export class EventLogUnavailableError extends Error {
  override readonly name = "EventLogUnavailableError";
  constructor(operation: string, projectId: string, cause: unknown) {
    super(`event log unavailable: ${operation} for project ${projectId} failed: ${reason(cause)}`, { cause });
  }
}

function reason(err: unknown): string {
  return errorMessage(err);
}

/** Reconnect and re-read delays against Redis (src/lib/backoff.ts), so many instances do not return in step. */
export const REDIS_BACKOFF: BackoffShape = { baseMs: 100, capMs: 5_000 };

export interface RedisConnectionOptions {
  url: string;
  /** CLIENT SETNAME, so connections can be found in CLIENT LIST (e.g. genstream:reader:<pid>). */
  name: string;
  logger: Logger;
  /** Every non-blocking command fails after this long. */
  commandTimeoutMs: number;
  /** For the blocking reader: the XREAD BLOCK time. Its replies are bounded by this instead of commandTimeoutMs. */
  blockMs?: number;
}

/**
 * One ioredis connection. Commands issued while disconnected wait in ioredis' offline queue but still
 * fail after the command timeout, so a caller is never left hanging on an outage. Note that such a
 * queued command may still run after reconnecting: callers rely on the log's key dedupe for that.
 */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  const { url, name, logger, commandTimeoutMs, blockMs } = options;
  const blocking = blockMs !== undefined;
  const redis = new Redis(url, {
    connectionName: name,
    connectTimeout: Math.max(1_000, commandTimeoutMs),
    // ioredis counts reconnect attempts from 1.
    retryStrategy: (attempt) => backoffDelay(attempt - 1, REDIS_BACKOFF),
    // A blocking reader must not time out its XREAD like a normal command. Instead ioredis bounds it
    // by BLOCK + grace, and socketTimeout drops a connection that stays silent (a dead peer).
    ...(blocking
      ? {
          maxRetriesPerRequest: null,
          blockingTimeout: blockMs + commandTimeoutMs,
          blockingTimeoutGrace: commandTimeoutMs,
          socketTimeout: blockMs + 2 * commandTimeoutMs,
        }
      : { maxRetriesPerRequest: 2, commandTimeout: commandTimeoutMs, socketTimeout: 2 * commandTimeoutMs }),
  });
  watch(redis, name, logger);
  return redis;
}

/**
 * Resolves once the connection is ready: its handshake (CLIENT SETINFO, the INFO ready check) done.
 * A SUBSCRIBE must wait for it. ioredis 5 writes a SUBSCRIBE made during the handshake at once
 * (Redis allows it while loading), the connection enters subscriber mode, the ready check's INFO is
 * then refused and the connection dropped: the subscription is gone until the reconnect, and a
 * PUBLISH meanwhile finds no receiver (ioredis#2037, fixed in ioredis 6).
 */
export function untilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  if (redis.status === "end") return Promise.reject(new Error("redis connection has ended"));
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("end", onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => settle();
    const onEnd = () => settle(new Error("redis connection has ended"));
    const timer = setTimeout(() => settle(new Error(`redis connection not ready within ${timeoutMs} ms`)), timeoutMs);
    redis.on("ready", onReady);
    redis.on("end", onEnd);
  });
}

/** Connections we are closing on purpose: their close is not an outage. */
const closing = new WeakSet<Redis>();

/** Logs connection loss once per outage (not once per reconnect attempt) and the recovery. */
function watch(redis: Redis, name: string, logger: Logger): void {
  let wasReady = false;
  let down = false;
  redis.on("ready", () => {
    if (down) logger.info({ connection: name }, "redis connection restored");
    wasReady = true;
    down = false;
  });
  redis.on("error", (err: Error) => {
    if (down || !wasReady) {
      logger.debug({ connection: name, err: err.message }, "redis connection error");
      return;
    }
    logger.warn({ connection: name, err: err.message }, "redis connection error");
  });
  redis.on("close", () => {
    if (!wasReady || down || closing.has(redis)) return;
    down = true;
    logger.warn({ connection: name }, "redis connection lost");
  });
}

/** A Lua script run by EVALSHA; NOSCRIPT (a restarted or flushed Redis) falls back to EVAL once. */
export class RedisScript {
  private readonly sha: string;

  constructor(
    private readonly source: string,
    private readonly numberOfKeys: number,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) throw new Error(`script expects ${this.numberOfKeys} keys, got ${keys.length}`);
    try {
      return await redis.evalsha(this.sha, this.numberOfKeys, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return await redis.eval(this.source, this.numberOfKeys, ...keys, ...args);
    }
  }
}

/**
 * Every key of one project shares the hash tag `{projectId}`, so a Redis Cluster keeps them in one
 * slot and the Lua scripts may touch them together.
 */
export function projectKeys(projectId: string) {
  const tag = `gs:{${projectId}}`;
  const keys = { log: `${tag}:log`, seq: `${tag}:seq`, keys: `${tag}:keys`, epoch: `${tag}:epoch`, conns: `${tag}:conns` };
  /** The log scripts' KEYS, in order. */
  return { ...keys, list: [keys.log, keys.seq, keys.keys, keys.epoch] };
}

/** Quits politely, or drops the socket if Redis cannot answer the QUIT. Resolves once the connection is done. */
export async function quitRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  closing.add(redis);
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
    return;
  }
  // Between reconnects there is no socket left to close, and ioredis never reports "end".
  const status: string = redis.status; // re-read: it changed while awaiting
  if (status === "end" || status === "reconnecting" || status === "wait") return;
  await new Promise((resolve) => redis.once("end", resolve));
}

/** Drops the socket at once; pending commands fail. For the blocking reader, where a QUIT would queue behind XREAD. */
export function dropRedis(redis: Redis): void {
  closing.add(redis);
  redis.disconnect();
}
