import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { silentLogger as defaultLogger } from "../lib/logger";
import { streamConfig } from "./config";
import { formatCursor, parseCursor, type Cursor, type LoggedEvent, type ProgressEvent } from "./protocol";
import { EventLogUnavailableError, RedisScript, createRedisConnection, projectKeys, quitRedis } from "./redis-client";
import type { EventLog, ReadResult } from "./types";
import { entryToLogged, type StreamEntry } from "./redis-entries";
import { TailRegistry, type Listener, type StreamTail } from "./redis-tail";

export interface RedisEventLogOptions {
  url: string;
  /** Keep at most this many events per project (default: streamConfig.retentionEvents). */
  retentionEvents?: number;
  /** Drop events older than this (default: streamConfig.retentionMs). */
  retentionMs?: number;
  /** Keys remembered for dedupe; never fewer than retentionEvents (default: 2 x retentionEvents). */
  keyIndexSize?: number;
  /** Clock stamped on entries for retention by age; injectable so tests need no waiting. */
  now?: () => number;
  /** Every command fails after this long (default 2 s). */
  commandTimeoutMs?: number;
  /** XREAD BLOCK time of the live tail (default 5 s); new subscriptions wake it, so this only bounds idle round trips. */
  blockMs?: number;
  /** Names this process's connections `genstream:<role>:<processName>` (default: the pid). Tests pass distinct names to act as separate instances. */
  processName?: string;
  logger?: Logger;
  /** Where the live tail is found: logs sharing a registry (and a processName) share one reader (default: this log's own). */
  tails?: TailRegistry;
}

/**
 * One Lua prelude for both scripts. KEYS: 1 stream, 2 seq, 3 dedupe zset, 4 epoch.
 * Age retention is applied here, on every append and read, because stream ids are seqs, not times:
 * entries carry `at` and the expired prefix is cut with XTRIM MINID. Scanning starts at the oldest
 * entry and stops at the first young one, so each expired entry is looked at once.
 */
const PRELUDE = `
local function seq_of(id) return tonumber(string.match(id, '^(%d+)')) end
local function field(fields, name)
  for i = 1, #fields, 2 do if fields[i] == name then return fields[i + 1] end end
  return nil
end
-- The epoch is created once (SET NX semantics, inside the script). A log whose epoch or seq was lost
-- (eviction, manual deletes) cannot be trusted by any cursor, so it starts over under a new epoch.
local function ensure_epoch(candidate)
  local epoch = redis.call('GET', KEYS[4])
  if epoch and (redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 0) then return epoch end
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  redis.call('SET', KEYS[4], candidate)
  return candidate
end
local function trim_age(cutoff)
  local expired = nil
  local start = '-'
  local count = 1
  local more = true
  while more do
    local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', count)
    more = #batch == count
    for _, entry in ipairs(batch) do
      local at = tonumber(field(entry[2], 'at'))
      if at == nil or at >= cutoff then more = false break end
      expired = entry[1]
    end
    if expired then start = '(' .. expired end
    count = math.min(count * 2, 256)
  end
  -- MINID <seq>-1 evicts <seq>-0 and everything older, and keeps <seq+1>-0.
  if expired then redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-1', seq_of(expired))) end
end
`;

/** ARGV: key, event json, now, retentionEvents, retentionMs, keyIndexSize, epoch candidate. Returns {seq, epoch}, or nil for a known key. */
const APPEND = new RedisScript(
  `${PRELUDE}
local epoch = ensure_epoch(ARGV[7])
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return false end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[6]) + 1))
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], string.format('%d-0', seq),
  'key', ARGV[1], 'event', ARGV[2], 'at', ARGV[3], 'epoch', epoch)
trim_age(tonumber(ARGV[3]) - tonumber(ARGV[5]))
return {seq, epoch}
`,
  4,
);

/**
 * ARGV: epoch candidate, cursor epoch ('' for none), cursor seq, now, retentionEvents, retentionMs.
 * Returns {epoch, seq, oldest, entries}: one atomic snapshot, so the head never runs ahead of the
 * entries returned (the service marks the head as delivered). `oldest` is the first seq still
 * retained, from the actual first entry (MAXLEN ~ keeps more than asked) and the count limit.
 */
const READ = new RedisScript(
  `${PRELUDE}
local epoch = ensure_epoch(ARGV[1])
trim_age(tonumber(ARGV[4]) - tonumber(ARGV[6]))
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local oldest = seq + 1
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #first > 0 then oldest = seq_of(first[1][1]) end
oldest = math.max(oldest, seq - tonumber(ARGV[5]) + 1)
local after = tonumber(ARGV[3])
if ARGV[2] ~= epoch or after > seq or after < oldest - 1 then return {epoch, seq, oldest, {}} end
return {epoch, seq, oldest, redis.call('XRANGE', KEYS[1], string.format('(%d-0', after), '+')}
`,
  4,
);

interface Snapshot {
  epoch: string;
  seq: number;
  oldest: number;
  entries: StreamEntry[];
}

/**
 * The scale-out progress log: one Redis stream per project (`gs:{projectId}:log`, ids `<seq>-0`),
 * shared by every app instance. The epoch lives in Redis, so cursors survive app restarts.
 * Live tail: one blocking XREAD connection per process for all subscribed projects (StreamTail below).
 */
export class RedisEventLog implements EventLog {
  readonly kind = "redis" as const;
  /** The command connection. Presence shares it; the log owns it and quits it on close. */
  readonly redis: Redis;
  private readonly options: RedisEventLogOptions & { processName: string; commandTimeoutMs: number; blockMs: number };
  private readonly logger: Logger;
  private readonly retentionEvents: number;
  private readonly retentionMs: number;
  private readonly keyIndexSize: number;
  private readonly now: () => number;
  private readonly subscriptions = new Set<() => void>();
  private tail: StreamTail | undefined;
  private readonly tails: TailRegistry;
  private closed = false;

  constructor(options: RedisEventLogOptions) {
    this.options = {
      ...options,
      processName: options.processName ?? String(process.pid),
      commandTimeoutMs: options.commandTimeoutMs ?? 2_000,
      blockMs: options.blockMs ?? 5_000,
    };
    this.logger = options.logger ?? defaultLogger;
    this.tails = options.tails ?? new TailRegistry();
    this.retentionEvents = Math.max(1, options.retentionEvents ?? streamConfig.retentionEvents);
    this.retentionMs = options.retentionMs ?? streamConfig.retentionMs;
    this.keyIndexSize = Math.max(this.retentionEvents, options.keyIndexSize ?? 2 * this.retentionEvents);
    this.now = options.now ?? Date.now;
    this.redis = createRedisConnection({
      url: options.url,
      name: `genstream:log:${this.options.processName}`,
      logger: this.logger,
      commandTimeoutMs: this.options.commandTimeoutMs,
    });
  }

  /**
   * Throws EventLogUnavailableError when Redis cannot answer within the command timeout. The append
   * may still have happened (a queued command runs on reconnect): retrying with the same key is safe.
   */
  async append(projectId: string, key: string, event: ProgressEvent): Promise<LoggedEvent | null> {
    if (this.closed) throw new Error("event log is closed");
    const args = [key, JSON.stringify(event), this.now(), this.retentionEvents, this.retentionMs, this.keyIndexSize, newEpoch()];
    let reply: unknown;
    try {
      reply = await APPEND.run(this.redis, projectKeys(projectId).list, args);
    } catch (err) {
      throw new EventLogUnavailableError("append", projectId, err);
    }
    if (reply === null) return null; // the key was already logged
    const [seq, epoch] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (typeof seq !== "number" || typeof epoch !== "string") {
      throw new EventLogUnavailableError("append", projectId, new Error("unexpected script reply"));
    }
    return { id: formatCursor(epoch, seq), key, event };
  }

  async readAfter(projectId: string, cursor: Cursor | undefined): Promise<ReadResult> {
    const parsed = cursor === undefined ? null : parseCursor(cursor);
    const snap = await this.snapshot(projectId, parsed);
    const head = formatCursor(snap.epoch, snap.seq);
    if (cursor === undefined) return { kind: "events", events: [], head };
    if (!parsed) return { kind: "reset", reason: "malformed-cursor", head };
    // Epochs are random per project, so another project's cursor lands here too.
    if (parsed.epoch !== snap.epoch) return { kind: "reset", reason: "unknown-log", head };
    if (parsed.seq > snap.seq) return { kind: "reset", reason: "future-cursor", head };
    if (parsed.seq < snap.oldest - 1) return { kind: "reset", reason: "retention", head };
    const events: LoggedEvent[] = [];
    for (const entry of snap.entries) {
      const logged = entryToLogged(entry, this.logger, { projectId });
      if (logged) events.push(logged);
    }
    return { kind: "events", events, head };
  }

  async head(projectId: string): Promise<Cursor> {
    const snap = await this.snapshot(projectId, null);
    return formatCursor(snap.epoch, snap.seq);
  }

  /** Live tail of appends from every instance. Starts at the project's head at subscribe time. */
  subscribe(projectId: string, listener: Listener): () => void {
    if (this.closed) return () => {};
    this.tail ??= this.tails.acquire({
      url: this.options.url,
      processName: this.options.processName,
      blockMs: this.options.blockMs,
      commandTimeoutMs: this.options.commandTimeoutMs,
      logger: this.logger,
    });
    // Read on the command connection, so it is answered before any readAfter the caller issues next.
    const off = this.tail.add(projectId, listener, async () => Number((await this.redis.get(projectKeys(projectId).seq)) ?? 0));
    const unsubscribe = (): void => {
      this.subscriptions.delete(unsubscribe);
      off();
    };
    this.subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of [...this.subscriptions]) unsubscribe();
    const tail = this.tail;
    this.tail = undefined;
    await Promise.all([tail?.release(), quitRedis(this.redis)]);
  }

  private async snapshot(projectId: string, cursor: { epoch: string; seq: number } | null): Promise<Snapshot> {
    const args = [newEpoch(), cursor?.epoch ?? "", cursor?.seq ?? -1, this.now(), this.retentionEvents, this.retentionMs];
    let reply: unknown;
    try {
      reply = await READ.run(this.redis, projectKeys(projectId).list, args);
    } catch (err) {
      throw new EventLogUnavailableError("read", projectId, err);
    }
    const snap = parseSnapshot(reply);
    if (!snap) throw new EventLogUnavailableError("read", projectId, new Error("unexpected script reply"));
    // A subscription still fetching its start position must not start after a head handed out since.
    this.tail?.observeHead(projectId, snap.seq);
    return snap;
  }
}

function newEpoch(): string {
  return randomBytes(9).toString("base64url");
}

function parseSnapshot(reply: unknown): Snapshot | null {
  if (!Array.isArray(reply) || reply.length !== 4) return null;
  const [epoch, seq, oldest, entries] = reply as unknown[];
  if (typeof epoch !== "string" || typeof seq !== "number" || typeof oldest !== "number" || !Array.isArray(entries)) return null;
  const parsed: StreamEntry[] = [];
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) return null;
    parsed.push([entry[0], (entry[1] as unknown[]).map(String)]);
  }
  return { epoch, seq, oldest, entries: parsed };
}
