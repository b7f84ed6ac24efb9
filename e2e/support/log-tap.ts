import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export type LogLine = Record<string, unknown>;

interface Waiter {
  match: (line: LogLine) => boolean;
  from: number;
  resolve: (line: LogLine) => void;
  reject: (error: Error) => void;
}

const KEEP_LINES = 50_000;
const KEEP_RAW = 200;

/**
 * Every JSON log line a child process writes, kept so a test can wait for one (already written or
 * still to come) instead of guessing how long something takes. Rejects waiters when the process exits.
 */
export class LogTap {
  readonly lines: LogLine[] = [];
  private readonly raw: string[] = [];
  private waiters: Waiter[] = [];
  private dropped = 0;
  private exited: string | null = null;

  constructor(
    child: ChildProcess,
    private readonly name: string,
  ) {
    if (!child.stdout) throw new Error(`${name}: stdout is not piped`);
    createInterface({ input: child.stdout }).on("line", (line) => this.add(line));
    child.stderr?.on("data", (chunk: Buffer) => this.keepRaw(chunk.toString()));
    child.once("exit", (code, signal) => {
      this.exited = `${name} exited (${code ?? signal})`;
      for (const w of this.waiters) w.reject(new Error(`${this.exited} while waiting for a log line:\n${this.tail()}`));
      this.waiters = [];
    });
  }

  /** A position to wait from: only lines logged after it count. */
  mark(): number {
    return this.dropped + this.lines.length;
  }

  waitFor(match: (line: LogLine) => boolean, from = 0): Promise<LogLine> {
    const found = this.lines.slice(Math.max(0, from - this.dropped)).find(match);
    if (found) return Promise.resolve(found);
    if (this.exited) return Promise.reject(new Error(`${this.exited}; no matching log line:\n${this.tail()}`));
    return new Promise((resolve, reject) => this.waiters.push({ match, from, resolve, reject }));
  }

  /** Waits for a line with this `msg` whose fields equal `fields`. */
  waitForMsg(msg: string, fields: LogLine = {}, from = 0): Promise<LogLine> {
    return this.waitFor((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v), from);
  }

  with(msg: string, fields: LogLine = {}): LogLine[] {
    return this.lines.filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
  }

  tail(): string {
    return this.raw.join("\n");
  }

  private add(text: string): void {
    this.keepRaw(text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof parsed !== "object" || parsed === null) return;
    const line = parsed as LogLine;
    this.lines.push(line);
    if (this.lines.length > KEEP_LINES) {
      this.lines.shift();
      this.dropped++;
    }
    const position = this.mark() - 1;
    this.waiters = this.waiters.filter((w) => {
      if (position < w.from || !w.match(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  private keepRaw(text: string): void {
    this.raw.push(`[${this.name}] ${text}`);
    if (this.raw.length > KEEP_RAW) this.raw.shift();
  }
}
