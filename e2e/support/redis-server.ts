import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "./ports";

/**
 * A redis-server of the test's own, on a free port, so a test can stop and restart it without
 * touching the shared Redis other suites use. Readiness is the server's own "Ready to accept
 * connections" log line. Data is kept in an append-only file (fsync always) in a temporary
 * directory, so a restart brings back the same streams, as a production Redis with AOF would.
 */
export class RedisServer {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(path.join(tmpdir(), "genstream-redis-"));
  private output: string[] = [];

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (or restarts) the server on its port; resolves on "Ready to accept connections". */
  async start(): Promise<void> {
    if (this.running) throw new Error(`redis-server on ${this.port} is already running`);
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
    ];
    const child = spawn(process.env.REDIS_SERVER_BIN ?? "redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.output = [];
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${this.output.join("\n")}`));
      child.once("error", reject);
      child.once("exit", onExit);
      child.stderr?.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
      createInterface({ input: child.stdout ?? process.stdin }).on("line", (line) => {
        this.output.push(line);
        if (this.output.length > 200) this.output.shift();
        if (line.includes("Ready to accept connections")) {
          child.off("exit", onExit);
          resolve();
        }
      });
    });
  }

  /** Stops the server (SIGTERM: it flushes the append-only file and exits); resolves on exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  }

  /** Stops the server and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
