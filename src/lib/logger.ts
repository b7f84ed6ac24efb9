import pino, { type Logger } from "pino";

export type { Logger };

export interface LoggerOptions {
  /** pino level (default: info; silent under NODE_ENV=test). */
  level?: string | undefined;
  /** json (default) or pretty; unset: pretty in development on a terminal. */
  format?: "json" | "pretty" | undefined;
  nodeEnv?: string | undefined;
  /** Whether stdout is a terminal (default: process.stdout.isTTY). */
  tty?: boolean;
  /**
   * JSON format only. false: lines are written to stdout asynchronously, those logged meanwhile in
   * one write (pino.destination sync: false), flushed synchronously when the process exits. The app
   * server logs every stream connect and disconnect, and one write syscall per line was ~10% of a
   * stream handshake's CPU (bench/README.md). Default true: each line written before log.info returns.
   */
  sync?: boolean;
}

/** pretty only where a person reads the terminal: development, a TTY, or asked for explicitly. */
export function resolveLogFormat(options: LoggerOptions): "json" | "pretty" {
  if (options.format) return options.format;
  const tty = options.tty ?? process.stdout.isTTY === true;
  return options.nodeEnv === "development" && tty ? "pretty" : "json";
}

/**
 * The one structured logger of a process. Object first, message second:
 * log.info({ projectId }, "stream connected"). The app server's lives in its services
 * (src/services.ts); command-line processes make their own (src/lib/process-log.ts).
 * Pretty output is pino-pretty (a devDependency) as a pino transport: it is loaded by name in a worker
 * only when chosen, so a production install, which never chooses it, never imports it.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? (options.nodeEnv === "test" ? "silent" : "info");
  const base = { app: "genstream" };
  if (resolveLogFormat(options) === "json")
    return options.sync === false ? pino({ level, base }, pino.destination({ dest: 1, sync: false })) : pino({ level, base });
  return pino({
    level,
    base,
    transport: {
      target: "pino-pretty",
      options: { colorize: true, singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,app" },
    },
  });
}

/** For classes whose logger is optional (tests that do not look at logs). */
export const silentLogger: Logger = pino({ level: "silent" });
