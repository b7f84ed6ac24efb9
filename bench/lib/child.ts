import { spawn, type ChildProcess } from "node:child_process";
import { spawnWithFileLimit } from "./file-limit";

export type LogLine = Record<string, unknown>;

interface Waiter {
  predicate: (line: LogLine) => boolean;
  resolve: (line: LogLine) => void;
  reject: (error: Error) => void;
}

/**
 * A server process of the benchmark. Its stdout is drained continuously (a full pipe would stall a
 * server that logs synchronously) and kept as a short tail for error reports; JSON log lines are
 * parsed only while someone waits for one. Readiness is a log line, never a timer.
 */
export class ServerProcess {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: Waiter[] = [];
  private partial = "";

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    const cmd = spawnWithFileLimit(process.execPath, args);
    this.child = spawn(cmd.command, cmd.args, { env, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.setEncoding("utf8").on("data", (text: string) => this.onText(text));
    this.child.stderr?.setEncoding("utf8").on("data", (text: string) => this.keep(`[stderr] ${text.trimEnd()}`));
    this.child.once("exit", (code, signal) => {
      const error = new Error(`${name} exited (${signal ?? code}) before the awaited log line:\n${this.tail()}`);
      for (const w of this.waiters) w.reject(error);
      this.waiters = [];
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first JSON log line (from now on) that matches. */
  waitFor(predicate: (line: LogLine) => boolean): Promise<LogLine> {
    if (!this.running) return Promise.reject(new Error(`${this.name} is not running:\n${this.tail()}`));
    return new Promise((resolve, reject) => this.waiters.push({ predicate, resolve, reject }));
  }

  tail(lines = 40): string {
    return this.lines.slice(-lines).join("\n");
  }

  /** SIGTERM and wait for exit (the servers exit on their own after closing connections). */
  stop(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }

  private onText(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      this.keep(line);
      if (this.waiters.length > 0 && line.startsWith("{")) this.match(line);
    }
  }

  private match(text: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    const hit = this.waiters.filter((w) => w.predicate(line));
    if (hit.length === 0) return;
    this.waiters = this.waiters.filter((w) => !hit.includes(w));
    for (const w of hit) w.resolve(line);
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 400) this.lines.splice(0, 200);
  }
}
