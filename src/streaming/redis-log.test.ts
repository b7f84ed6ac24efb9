import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCursor, type LoggedEvent } from "./protocol";
import { EventLogUnavailableError, projectKeys } from "./redis-client";
import { RedisEventLog, type RedisEventLogOptions } from "./redis-log";
import { TailRegistry } from "./redis-tail";
import { CapturedLog, collect, progressEvent } from "./test-harness";
import { freePort } from "../test/ports";

import { TEST_REDIS_URL as REDIS_URL } from "../test/services";

const unique = (prefix: string): string => `${prefix}-${process.pid}-${randomUUID().slice(0, 8)}`;
/** Every project id used, so its keys can be deleted from the shared Redis afterwards. */
const used: string[] = [];
const project = (): string => {
  const id = unique("test");
  used.push(id);
  return id;
};
const seqs = (events: LoggedEvent[]): number[] => events.map((e) => parseCursor(e.id)?.seq ?? -1);

async function appendRange(log: RedisEventLog, projectId: string, from: number, to: number): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for (let i = from; i <= to; i++) {
    const logged = await log.append(projectId, `k${i}`, progressEvent(projectId, i));
    if (logged) out.push(logged);
  }
  return out;
}

/** `CLIENT LIST` rows as {id, name}. */
async function clients(admin: Redis): Promise<{ id: string; name: string }[]> {
  const list = String(await admin.call("CLIENT", "LIST"));
  return list
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => ({ id: /(?:^| )id=(\d+)/.exec(line)?.[1] ?? "", name: / name=(\S*)/.exec(line)?.[1] ?? "" }));
}

describe("RedisEventLog", () => {
  const url = REDIS_URL;
  const open: RedisEventLog[] = [];
  let admin: Redis;
  const create = (options: Partial<RedisEventLogOptions> = {}): RedisEventLog => {
    const log = new RedisEventLog({ url, processName: unique("instance"), ...options });
    open.push(log);
    return log;
  };

  beforeAll(() => {
    admin = new Redis(url, { connectionName: unique("genstream-test-admin") });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((log) => log.close()));
  });
  afterAll(async () => {
    if (used.length > 0) await admin.del(...used.flatMap((p) => projectKeys(p).list));
    await admin.quit();
  });

  it("keeps the epoch in Redis, so a cursor stays valid across app-instance restarts", async () => {
    const P = project();
    const first = create();
    const [e1, e2] = await appendRange(first, P, 1, 2);
    await first.close();
    const restarted = create();
    expect(await restarted.readAfter(P, e1?.id)).toEqual({ kind: "events", events: [e2], head: e2?.id });
  });

  it("fans out appends from every instance to every instance's subscribers, in order", async () => {
    const P = project();
    const [a, b] = [create(), create()];
    const [fromA, fromB] = [collect(a, P), collect(b, P)];
    // As the service does: read the head after subscribing; the tail starts no later than that head.
    await Promise.all([a.head(P), b.head(P)]);
    for (let i = 1; i <= 10; i++) await (i % 2 === 0 ? a : b).append(P, `k${i}`, progressEvent(P, i));
    const [gotA, gotB] = await Promise.all([fromA.until(10), fromB.until(10)]);
    expect(seqs(gotA)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(gotB).toEqual(gotA);
  });

  it("misses nothing between replay and live while another instance keeps appending", { repeats: 3 }, async () => {
    const P = project();
    const [writer, log] = [create(), create()];
    const epoch = parseCursor(await writer.head(P))?.epoch;
    let halfway: () => void = () => {};
    const started = new Promise<void>((resolve) => (halfway = resolve));
    const writing = (async () => {
      for (let i = 1; i <= 300; i++) {
        await writer.append(P, `k${i}`, progressEvent(P, i));
        if (i === 50) halfway();
      }
    })();
    await started;
    // The service's handshake: subscribe first, then replay from the client's cursor.
    const live: LoggedEvent[] = [];
    let done: () => void = () => {};
    const complete = new Promise<void>((resolve) => (done = resolve));
    log.subscribe(P, (e) => {
      live.push(e);
      if (e.key === "k300") done();
    });
    const replay = await log.readAfter(P, `${epoch}:0`);
    await writing;
    await complete;
    expect(replay.kind).toBe("events");
    const replayed = replay.kind === "events" ? replay.events : [];
    const head = parseCursor(replay.head)?.seq ?? -1;
    expect(head).toBeGreaterThanOrEqual(50);
    expect(seqs(live)).toEqual([...new Set(seqs(live))].sort((x, y) => x - y)); // in order, no repeats
    const merged = [...replayed, ...live.filter((e) => (parseCursor(e.id)?.seq ?? 0) > head)];
    expect(seqs(merged)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it("uses one reader connection per process, however many projects and log copies subscribe", async () => {
    const processName = unique("one-reader");
    const tails = new TailRegistry();
    const log = create({ processName, tails });
    const copy = create({ processName, tails }); // another log of the same process, sharing its tails
    const projects = Array.from({ length: 20 }, project);
    const collectors = projects.map((p, i) => collect(i % 2 === 0 ? log : copy, p));
    await Promise.all(projects.map((p) => log.head(p)));
    await Promise.all(projects.map((p, i) => log.append(p, "k1", progressEvent(p, i))));
    for (const c of collectors) expect(seqs(await c.until(1))).toEqual([1]);
    const names = (await clients(admin)).map((c) => c.name);
    expect(names.filter((n) => n === `genstream:reader:${processName}`)).toHaveLength(1);
    expect(names.filter((n) => n.endsWith(`:${processName}`)).sort()).toEqual([
      `genstream:log:${processName}`,
      `genstream:log:${processName}`,
      `genstream:reader:${processName}`,
      `genstream:wake:${processName}`,
    ]);
    await Promise.all([log.close(), copy.close()]);
    expect([log.redis.status, copy.redis.status]).toEqual(["end", "end"]);
    expect(tails.keys().some((k) => k.endsWith(`|${processName}`))).toBe(false);
  });

  it("wakes a blocked reader when a project is added, instead of waiting out the block", { timeout: 10_000 }, async () => {
    const log = create({ blockMs: 60_000 }); // without the wake-up the second delivery would take a minute
    const [p1, p2] = [project(), project()];
    const first = collect(log, p1);
    await log.append(p1, "k1", progressEvent(p1, 1));
    await first.until(1); // the reader is now blocked on p1 alone
    const second = collect(log, p2);
    await log.append(p2, "k1", progressEvent(p2, 1));
    expect(seqs(await second.until(1))).toEqual([1]);
    await log.append(p1, "k2", progressEvent(p1, 2));
    expect(seqs(await first.until(2))).toEqual([1, 2]);
  });

  it("resumes after its connections are killed from the last delivered id: no gap, no duplicate", async () => {
    const capture = new CapturedLog();
    const processName = unique("killed");
    const reader = `genstream:reader:${processName}`;
    const log = create({ processName, logger: capture.logger, blockMs: 60_000 });
    const writer = create();
    const P = project();
    const got = collect(log, P);
    await log.head(P);
    await appendRange(writer, P, 1, 3);
    await got.until(3);
    // Only this instance's connections: CLIENT KILL TYPE normal would also hit suites running in parallel.
    const victims = (await clients(admin)).filter((c) => c.name.endsWith(`:${processName}`));
    expect(victims.map((c) => c.name)).toContain(reader);
    for (const victim of victims) await admin.call("CLIENT", "KILL", "ID", victim.id);
    await capture.waitFor((l) => l.msg === "redis connection lost" && l.connection === reader, "reader lost");
    await appendRange(writer, P, 4, 6); // appended while the reader is down or reconnecting
    expect(await log.append(P, "k7", progressEvent(P, 7))).not.toBeNull(); // its own command connection recovers too
    expect(seqs(await got.until(7))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await capture.waitFor((l) => l.msg === "redis connection restored" && l.connection === reader, "reader restored");
    const readers = (await clients(admin)).filter((c) => c.name === reader);
    expect(readers).toHaveLength(1);
    expect(victims.map((c) => c.id)).not.toContain(readers[0]?.id);
    await appendRange(writer, P, 8, 8);
    expect(seqs(await got.until(8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("stops delivering to a closed log's subscribers", async () => {
    const P = project();
    const [closing, staying] = [create(), create()];
    const gone = collect(closing, P);
    const kept = collect(staying, P);
    await Promise.all([closing.head(P), staying.head(P)]);
    await closing.append(P, "k1", progressEvent(P, 1));
    await Promise.all([gone.until(1), kept.until(1)]);
    await closing.close();
    await staying.append(P, "k2", progressEvent(P, 2));
    await kept.until(2);
    expect(seqs(gone.events)).toEqual([1]);
  });
});

/** A throwaway redis-server without persistence; resolves on its own "ready" line, not after a delay. */
async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}) before it was ready: ${output}`)));
  });
  return child;
}

async function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

describe("RedisEventLog when Redis goes down and comes back", () => {
  let server: ChildProcess | undefined;
  let log: RedisEventLog | undefined;

  afterEach(async () => {
    await log?.close();
    if (server) await stopRedisServer(server);
  });

  it("fails appends and reads with EventLogUnavailableError within the timeout, then recovers by itself", async () => {
    const port = await freePort();
    server = await startRedisServer(port);
    const commandTimeoutMs = 300;
    log = new RedisEventLog({ url: `redis://127.0.0.1:${port}`, processName: unique("outage"), commandTimeoutMs });
    const P = project();
    expect(await log.append(P, "k1", progressEvent(P, 1))).not.toBeNull();

    await stopRedisServer(server);
    const started = Date.now();
    const failure = await log.append(P, "k2", progressEvent(P, 2)).catch((err: unknown) => err);
    const elapsed = Date.now() - started;
    expect(failure).toBeInstanceOf(EventLogUnavailableError);
    expect(String(failure)).toMatch(/event log unavailable: append for project test-/);
    expect(elapsed).toBeLessThan(commandTimeoutMs + 1_000);
    await expect(log.readAfter(P, undefined)).rejects.toBeInstanceOf(EventLogUnavailableError);

    server = await startRedisServer(port);
    if (log.redis.status !== "ready") await once(log.redis, "ready");
    // Without persistence the restarted Redis lost the log: a new epoch, and k2 (which may have been
    // queued and replayed on reconnect) is deduped or appended, never doubled.
    const after = await log.append(P, "k3", progressEvent(P, 3));
    expect(after).not.toBeNull();
    const read = await log.readAfter(P, `${parseCursor(after?.id ?? "")?.epoch}:0`);
    expect(read.kind === "events" && read.events.map((e) => e.key).filter((k) => k === "k3")).toEqual(["k3"]);
  });

  it("closes promptly while Redis is down, even with a blocked reader and a subscription", { timeout: 10_000 }, async () => {
    const port = await freePort();
    server = await startRedisServer(port);
    log = new RedisEventLog({
      url: `redis://127.0.0.1:${port}`,
      processName: unique("outage-close"),
      blockMs: 60_000,
      commandTimeoutMs: 300,
    });
    const P = project();
    const got = collect(log, P);
    await log.head(P);
    await log.append(P, "k1", progressEvent(P, 1));
    await got.until(1); // the reader is blocked in XREAD
    await stopRedisServer(server);
    collect(log, project()); // a subscription whose start cannot be fetched
    await log.close(); // must not wait out the 60 s block or the backoff
    expect(log.redis.status).not.toBe("ready");
  });
});
