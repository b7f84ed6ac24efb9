import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dropSchemas } from "../../src/test/schemas";
import { TEST_REDIS_URL } from "../../src/test/services";
import { LogTap, type LogLine } from "./log-tap";

/**
 * One production app server plus its embedded Inngest executor, as `npm start` runs them, on ports
 * of their own. Readiness is a handshake: each process's own "listening" log line, never a timer.
 * Both processes' JSON log lines are kept (`appLog`, `executorLog`) so tests can wait on them.
 */
export interface AppServerOptions {
  port: number;
  executorPort: number;
  /** The progress event log: the embedded in-memory one (default) or Redis (TEST_REDIS_URL). */
  eventLog?: "memory" | "redis";
  /** With eventLog "redis": which Redis (default TEST_REDIS_URL), e.g. a dedicated redis-server a test stops. */
  redisUrl?: string;
  env?: Record<string, string>;
  /** Variables of the test runner's environment the servers must not inherit. */
  unsetEnv?: readonly string[];
  /** false: this instance has no executor of its own; `executorPort` names the shared one it sends events to. */
  executor?: boolean;
  /**
   * The self-hosted Inngest configuration: the app gets this INNGEST_SIGNING_KEY, an
   * INNGEST_EVENT_KEY and INNGEST_BASE_URL (the executor) and no INNGEST_DEV; the executor signs its
   * requests with the same key. Without it the app runs as `npm start` does (INNGEST_DEV pointing at
   * the embedded executor, which signs with the run's key).
   */
  signingKey?: string;
  /** Public URL of the app (BETTER_AUTH_URL), e.g. a load balancer in front of several instances. */
  publicURL?: string;
}

/** One secret per test run: production refuses to start without one, and a fixed one would be forgeable. */
const AUTH_SECRET = randomBytes(33).toString("base64url");

/** Production verifies Inngest signatures; the embedded executor signs with the same key (same env). */
const INNGEST_SIGNING_KEY = `signkey-test-${randomBytes(32).toString("hex")}`;

/**
 * The test-only controls' token for this run: a production server serves /api/test/* only with
 * GENSTREAM_TEST_CONTROLS_TOKEN set and on a loopback address (src/server/test-controls-gate.ts).
 */
export const TEST_CONTROLS_TOKEN = randomBytes(33).toString("base64url");
export const testControlHeaders: Readonly<Record<string, string>> = { "x-genstream-test-token": TEST_CONTROLS_TOKEN };

function stop(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

function killHard(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

export class AppServer {
  readonly baseURL: string;
  readonly executorURL: string;
  private app: ChildProcess | null = null;
  private executor: ChildProcess | null = null;
  private appTap: LogTap | null = null;
  private executorTap: LogTap | null = null;
  private listening: LogLine | null = null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly executorEnv: NodeJS.ProcessEnv;

  constructor(private readonly options: AppServerOptions) {
    this.baseURL = `http://127.0.0.1:${options.port}`;
    this.executorURL = `http://127.0.0.1:${options.executorPort}`;
    // The executor's store is this server's own (a schema, or a PGlite directory), kept across its
    // restarts: another server's runs must not resume here.
    const database: Record<string, string> = process.env.DATABASE_URL
      ? { DATABASE_URL: process.env.DATABASE_URL, GENSTREAM_EXECUTOR_SCHEMA: `genstream_engine_e2e_${randomBytes(6).toString("hex")}` }
      : {
          PGLITE_DIR: mkdtempSync(path.join(tmpdir(), "genstream-e2e-")),
          GENSTREAM_EXECUTOR_PGLITE_DIR: mkdtempSync(path.join(tmpdir(), "genstream-e2e-engine-")),
        };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...database,
      NODE_ENV: "production",
      PORT: String(options.port),
      HOSTNAME: "127.0.0.1",
      INNGEST_DEV: this.executorURL,
      GENSTREAM_EXECUTOR_PORT: String(options.executorPort),
      GENSTREAM_APP_URL: `${this.baseURL}/api/inngest`,
      GENSTREAM_TEST_CONTROLS: "1",
      GENSTREAM_TEST_CONTROLS_TOKEN: TEST_CONTROLS_TOKEN,
      BETTER_AUTH_SECRET: AUTH_SECRET,
      INNGEST_SIGNING_KEY,
      LOG_LEVEL: "info",
      ...options.env,
    };
    if (options.eventLog === "redis") env.REDIS_URL = options.redisUrl ?? TEST_REDIS_URL;
    else delete env.REDIS_URL;
    if (options.publicURL) env.BETTER_AUTH_URL = options.publicURL;
    for (const name of options.unsetEnv ?? []) delete env[name];
    const executorEnv: NodeJS.ProcessEnv = { ...env };
    if (options.signingKey) {
      executorEnv.INNGEST_SIGNING_KEY = options.signingKey;
      delete executorEnv.INNGEST_EVENT_KEY;
      env.INNGEST_SIGNING_KEY = options.signingKey;
      env.INNGEST_EVENT_KEY = "genstream-e2e-event-key";
      env.INNGEST_BASE_URL = this.executorURL;
      delete env.INNGEST_DEV;
    }
    this.env = env;
    this.executorEnv = executorEnv;
  }

  /** The key the executor signs with: its dashboard and REST API (/v1) ask for it. */
  get executorSigningKey(): string {
    const key = this.executorEnv.INNGEST_SIGNING_KEY;
    if (!key) throw new Error("the executor runs without a signing key");
    return key;
  }

  /** The app's log lines since its last (re)start. */
  get appLog(): LogTap {
    if (!this.appTap) throw new Error("app server not started");
    return this.appTap;
  }

  get executorLog(): LogTap {
    if (!this.executorTap) throw new Error("executor not started");
    return this.executorTap;
  }

  /** Whether the app process is alive. */
  get running(): boolean {
    return this.app !== null && this.app.exitCode === null && this.app.signalCode === null;
  }

  /** The event log backend the running app reported when it started listening. */
  get eventLogKind(): "memory" | "redis" {
    return this.listening?.eventLog === "redis" ? "redis" : "memory";
  }

  /** Starts both; if either fails, stops the other, so a failed start leaves no process behind. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.options.executor === false ? [this.startApp()] : [this.startExecutor(), this.startApp()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (!failed) return;
    await this.stop();
    throw failed.reason;
  }

  async startExecutor(): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", "inngest/local/main.ts"], {
      env: this.executorEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.executor = child;
    this.executorTap = new LogTap(child, "executor");
    await this.ready(this.executorTap, "executor", "local executor listening");
  }

  async startApp(): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    this.app = child;
    this.appTap = new LogTap(child, "app");
    this.listening = await this.ready(this.appTap, "app", "server listening");
  }

  /** Stops the job engine only (an outage); startExecutor() brings it back. */
  async stopExecutor(): Promise<void> {
    await stop(this.executor);
  }

  /** Stops and starts the app server only; the executor keeps its runs and retries the app meanwhile. */
  async restartApp(): Promise<void> {
    await stop(this.app);
    await this.startApp();
  }

  /** Kills the job engine as a crash would (SIGKILL); startExecutor() brings it back on the same store. */
  async killExecutor(): Promise<void> {
    await killHard(this.executor);
  }

  /** Kills the app server as a crash would (SIGKILL: no shutdown frames, sockets just drop). */
  async killApp(): Promise<void> {
    await killHard(this.app);
  }

  /** Stops both, then drops the executor's schema: every server's is its own, and the shared database would keep them all. */
  async stop(): Promise<void> {
    await Promise.all([stop(this.app), stop(this.executor)]);
    const schema = this.executorEnv.GENSTREAM_EXECUTOR_SCHEMA;
    const url = this.executorEnv.DATABASE_URL;
    if (!schema || !url || this.options.executor === false) return;
    await dropSchemas(url, [schema]);
  }

  private async ready(tap: LogTap, name: string, msg: string): Promise<LogLine> {
    try {
      return await tap.waitForMsg(msg);
    } catch (error) {
      throw new Error(`${name} was not ready: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
