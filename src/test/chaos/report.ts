import { log } from "../../lib/process-log";

/**
 * Figures the chaos suites print (seed, counts, latencies). The process logger is silent under test
 * (NODE_ENV=test); this child keeps `info` so the figures reach the test output.
 */
export const chaosLog = log.child({ suite: "chaos" }, { level: "info" });
