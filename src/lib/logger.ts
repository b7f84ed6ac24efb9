import pino from "pino";

/** The one structured logger. Object first, message second: log.info({ projectId }, "stream connected"). */
const globalForLogger = globalThis as unknown as { __genstreamLogger?: pino.Logger };

export const log: pino.Logger =
  globalForLogger.__genstreamLogger ??
  (globalForLogger.__genstreamLogger = pino({
    level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info"),
    base: { app: "genstream" },
  }));
