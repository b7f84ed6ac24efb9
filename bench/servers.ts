import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { buildSync } from "esbuild";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ServerProcess } from "./lib/child";

/** Starting the three server processes of a run: the baseline, the app (production) and its executor. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/**
 * How both servers are started: tsx as `npm start` does, plus an inert SIGUSR2 -> full-GC hook used
 * only before RSS samples, plus `--cpu-prof` into <profileDir>/<name>/ when profiling (the main
 * thread's profile is the largest file; tsx's loader thread writes its own).
 */
function nodeArgs(name: string, script: string, profileDir: string | undefined): string[] {
  const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", path.join(profileDir, name)] : [];
  return [...profile, "--expose-gc", "--import", "tsx", "--import", "./bench/lib/gc-on-signal.ts", script];
}

/** V8's view of the server after a full GC: live JS heap, and memory outside it (WASM, Buffers). */
export interface HeapSample {
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
}

/** Full GC in the server (see gc-on-signal.ts); resolves on its log line with process.memoryUsage(). */
export async function collectGarbage(proc: ServerProcess): Promise<HeapSample> {
  const done = proc.waitFor((l) => l.msg === "bench gc done");
  proc.child.kill("SIGUSR2");
  const line = await done;
  if (line.collected !== true) throw new Error(`${proc.name}: gc() is not exposed`);
  return {
    heapUsedBytes: Number(line.heapUsed),
    heapTotalBytes: Number(line.heapTotal),
    externalBytes: Number(line.external),
    arrayBuffersBytes: Number(line.arrayBuffers),
  };
}

const listening = (l: Record<string, unknown>): boolean => l.msg === "server listening";

export async function startBaseline(port: number, profileDir: string | undefined): Promise<ServerProcess> {
  const proc = new ServerProcess("baseline", nodeArgs("baseline", "bench/baseline/server.ts", profileDir), {
    ...process.env,
    PORT: String(port),
  });
  await proc.waitFor(listening);
  return proc;
}

/**
 * `next build` when there is no production build (or when asked to); the stream phases run the
 * server from source via tsx. dist/ (what `npm start` runs, scripts/build-server.ts) is rebuilt
 * every run: it takes a second, and the memory phase must never measure a stale one.
 */
export async function ensureBuild(force: boolean): Promise<void> {
  const server = await new Promise<number | null>((resolve) =>
    spawn("npx", ["tsx", "scripts/build-server.ts"], { stdio: "inherit" }).once("exit", resolve),
  );
  if (server !== 0) throw new Error(`scripts/build-server.ts failed (exit ${server})`);
  if (!force && existsSync(".next/BUILD_ID")) return;
  console.log(force ? "Rebuilding: npx next build" : "No production build (.next/BUILD_ID missing): running npx next build first");
  // The build renders pages that reach the auth setup, which production refuses without a secret.
  const env = { ...process.env, BETTER_AUTH_SECRET: process.env.BETTER_AUTH_SECRET ?? randomBytes(33).toString("base64url") };
  const code = await new Promise<number | null>((resolve) =>
    spawn("npx", ["next", "build"], { stdio: "inherit", env }).once("exit", resolve),
  );
  if (code !== 0) throw new Error(`next build failed (exit ${code}); the benchmark needs a production build`);
}

/**
 * The test controls' token of this bench run, kept in the environment so the load clients
 * (child processes, bench/client/trigger.ts) inherit it.
 */
export function benchTestControlsToken(): string {
  process.env.GENSTREAM_TEST_CONTROLS_TOKEN ??= randomBytes(33).toString("base64url");
  return process.env.GENSTREAM_TEST_CONTROLS_TOKEN;
}

/**
 * The app's environment; without DATABASE_URL a fresh PGlite directory, removed by `cleanup`.
 * The event log is chosen explicitly: in-memory unless `redisUrl` (an inherited REDIS_URL, as CI
 * sets it, must not turn the in-memory column into a second Redis one).
 */
export function appEnv(
  port: number,
  executorPort: number,
  redisUrl: string | null = null,
): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const dir = process.env.DATABASE_URL ? null : mkdtempSync(path.join(tmpdir(), "genstream-bench-"));
  const database: Record<string, string> = dir === null ? { DATABASE_URL: process.env.DATABASE_URL ?? "" } : { PGLITE_DIR: dir };
  const inherited = { ...process.env };
  delete inherited.REDIS_URL;
  for (const name of Object.keys(inherited)) if (name.startsWith("LLM_")) delete inherited[name];
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ...database,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    // The deterministic planner, even when a .env file names a model (the environment wins over
    // .env files); the token-streaming phase sets its own model (bench/phases/tokens.ts).
    LLM_BASE_URL: "",
    LLM_MODEL: "",
    NODE_ENV: "production",
    PORT: String(port),
    HOSTNAME: "127.0.0.1",
    GENSTREAM_TEST_CONTROLS: "1",
    // Production serves the test controls only with a per-run token, on loopback (test-controls-gate.ts).
    GENSTREAM_TEST_CONTROLS_TOKEN: benchTestControlsToken(),
    // Production refuses to start without a session secret; the bench's users live only in this run's database.
    BETTER_AUTH_SECRET: randomBytes(33).toString("base64url"),
    // Production verifies the job engine's signatures; the embedded executor signs with this key.
    INNGEST_SIGNING_KEY: `signkey-bench-${randomBytes(32).toString("hex")}`,
    // One bench user holds thousands of streams; the per-user limit protects real deployments, not this one.
    GENSTREAM_MAX_STREAMS_PER_USER: "1000000",
    INNGEST_DEV: `http://127.0.0.1:${executorPort}`,
    GENSTREAM_EXECUTOR_PORT: String(executorPort),
    GENSTREAM_APP_URL: `http://127.0.0.1:${port}/api/inngest`,
    // The executor's durable store would otherwise be the shared default (.data/engine, or schema
    // genstream_engine), and a later run would resume this run's jobs; the figures so far were taken without it.
    GENSTREAM_EXECUTOR_STORE: "memory",
  };
  return { env, cleanup: () => dir !== null && rmSync(dir, { recursive: true, force: true }) };
}

/** The app exactly as `npm start` runs it (`tsx server.ts`, NODE_ENV=production), handshake on its log line. */
export async function startApp(env: NodeJS.ProcessEnv, profileDir: string | undefined, name = "app"): Promise<ServerProcess> {
  const proc = new ServerProcess(name, nodeArgs(name, "server.ts", profileDir), env);
  await proc.waitFor(listening);
  return proc;
}

let gcHook: string | null = null;

/** gc-on-signal.ts compiled to plain JS once per run, so a compiled server is measured without tsx's loader. */
function compiledGcHook(): string {
  if (gcHook !== null) return gcHook;
  const file = path.join(mkdtempSync(path.join(tmpdir(), "genstream-bench-gc-")), "gc-on-signal.mjs");
  buildSync({ entryPoints: ["bench/lib/gc-on-signal.ts"], outfile: file, format: "esm", platform: "node", logLevel: "warning" });
  gcHook = file;
  return file;
}

/**
 * The app exactly as `npm start` runs it: `node dist/migrate.mjs` to completion (a fresh PGlite's
 * initdb happens there, not in the app), then `node dist/server.mjs` — no TypeScript loader — plus
 * the inert SIGUSR2 -> full-GC hook.
 */
export async function startCompiledApp(env: NodeJS.ProcessEnv, name: string): Promise<ServerProcess> {
  const migrate = await new Promise<number | null>((resolve) =>
    spawn(process.execPath, ["dist/migrate.mjs"], { env, stdio: "ignore" }).once("exit", resolve),
  );
  if (migrate !== 0) throw new Error(`${name}: node dist/migrate.mjs failed (exit ${migrate})`);
  const proc = new ServerProcess(name, ["--expose-gc", "--import", compiledGcHook(), "dist/server.mjs"], env);
  await proc.waitFor(listening);
  return proc;
}

/** The embedded Inngest executor; resolves once it has synced the app's functions. */
export async function startExecutor(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const proc = new ServerProcess("executor", ["--import", "tsx", "inngest/local/main.ts"], env);
  const synced = proc.waitFor(
    (l) => l.msg === "sync succeeded" || l.msg === "sync refused functions" || l.msg === "local executor not started",
  );
  const line = await synced;
  if (line.msg !== "sync succeeded") throw new Error(`executor: ${String(line.msg)}\n${proc.tail()}`);
  return proc;
}

/** Fails fast, naming --no-redis, when the Redis of the third column does not accept connections. */
export async function checkRedis(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: hostname || "127.0.0.1", port: Number(port || 6379) });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", (err) =>
      reject(new Error(`Redis at ${url} is not reachable (${err.message}); start it, set REDIS_URL, or run with --no-redis`)),
    );
  });
}
