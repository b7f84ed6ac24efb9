import { monitorEventLoopDelay } from "node:perf_hooks";

export interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

/**
 * Watches the load client's own event loop during a measurement: a stalled client (GC, too much
 * work) inflates receipt times, so every result says how late the client itself was.
 */
export function watchLoop(): () => LoopDelay {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  return () => {
    h.disable();
    return { p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
  };
}
