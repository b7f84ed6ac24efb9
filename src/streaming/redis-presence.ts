import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { silentLogger as defaultLogger } from "../lib/logger";
import { EventLogUnavailableError, projectKeys } from "./redis-client";
import { errorMessage } from "../lib/errors";

/** Which stream connections are open, across every app instance. */
export interface ConnectionPresence {
  /** Records the connection until the returned function is called (or its instance dies and the entry expires). */
  track(projectId: string, connectionId: string): () => void;
  isConnected(projectId: string, connectionId: string): Promise<boolean>;
}

export interface RedisPresenceOptions {
  /** A connection owned by someone else (the event log's); presence never quits it. */
  redis: Redis;
  /** An entry not refreshed for this long counts as gone: the bound on a crashed instance's ghosts (default 30 s). */
  ttlMs?: number;
  /** How often live entries are refreshed (default ttlMs / 3, so two refreshes may fail before expiry). */
  refreshMs?: number;
  /** Injectable so expiry is testable without waiting. Instances' clocks may differ by less than ttlMs - refreshMs. */
  now?: () => number;
  logger?: Logger;
}

/**
 * Presence in Redis: per project a sorted set `gs:{projectId}:conns` of connection ids scored by
 * their expiry time. One timer per process refreshes every tracked connection in one pipeline.
 */
export class RedisPresence implements ConnectionPresence {
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly tracked = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: RedisPresenceOptions) {
    this.redis = options.redis;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.refreshMs = options.refreshMs ?? Math.round(this.ttlMs / 3);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? defaultLogger;
  }

  track(projectId: string, connectionId: string): () => void {
    let ids = this.tracked.get(projectId);
    if (!ids) {
      ids = new Set();
      this.tracked.set(projectId, ids);
    }
    ids.add(connectionId);
    void this.write(new Map([[projectId, new Set([connectionId])]]));
    this.startTimer();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.forget(projectId, connectionId);
      // Best effort: if Redis is down the entry expires by itself.
      this.redis.zrem(projectKeys(projectId).conns, connectionId).catch((err: unknown) => {
        this.logger.warn({ projectId, connectionId, err: errorMessage(err) }, "presence removal failed");
      });
    };
  }

  async isConnected(projectId: string, connectionId: string): Promise<boolean> {
    let score: string | null;
    try {
      score = await this.redis.zscore(projectKeys(projectId).conns, connectionId);
    } catch (err) {
      throw new EventLogUnavailableError("presence check", projectId, err);
    }
    return score !== null && Number(score) > this.now();
  }

  /** Pushes every tracked connection's expiry forward (the timer calls this; tests may too). */
  async refresh(): Promise<void> {
    await this.write(this.tracked);
  }

  private async write(entries: Map<string, Set<string>>): Promise<void> {
    if (entries.size === 0) return;
    const now = this.now();
    const pipeline = this.redis.pipeline();
    for (const [projectId, ids] of entries) {
      if (ids.size === 0) continue;
      const key = projectKeys(projectId).conns;
      pipeline.zadd(key, ...[...ids].flatMap((id) => [now + this.ttlMs, id]));
      // Sweep other instances' expired ghosts; the key itself goes once no instance refreshes it.
      pipeline.zremrangebyscore(key, "-inf", now);
      pipeline.pexpire(key, 2 * this.ttlMs);
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    } catch (err) {
      this.logger.warn({ projects: entries.size, err: errorMessage(err) }, "presence refresh failed");
    }
  }

  private forget(projectId: string, connectionId: string): void {
    const ids = this.tracked.get(projectId);
    ids?.delete(connectionId);
    if (ids?.size === 0) this.tracked.delete(projectId);
    if (this.tracked.size === 0) this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
