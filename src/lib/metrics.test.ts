import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics";

describe("metrics names", () => {
  it("keeps Node's default metrics under their stock names and prefixes only the app's own with genstream_", async () => {
    const names = (await createMetrics({ defaultMetrics: true }).registry.getMetricsAsJSON()).map((m) => m.name);
    // What the stock Node.js dashboards query.
    expect(names).toEqual(
      expect.arrayContaining([
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_heap_size_used_bytes",
        "nodejs_eventloop_lag_seconds",
      ]),
    );
    expect(names.filter((n) => n.startsWith("genstream_process_"))).toEqual([]);
    const own = names.filter((n) => !n.startsWith("process_") && !n.startsWith("nodejs_"));
    expect(own.length).toBeGreaterThan(0);
    expect(own.filter((n) => !n.startsWith("genstream_"))).toEqual([]);
  });

  it("without default metrics holds only the app's own", async () => {
    const names = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.every((n) => n.startsWith("genstream_"))).toBe(true);
  });
});
