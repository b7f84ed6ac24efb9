import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics: one registry per process, in the services (src/services.ts). Node's default
 * metrics keep their stock names (`process_*`, `nodejs_*`), so the usual Node.js dashboards work;
 * the app's own metrics are `genstream_*`.
 */
export interface Metrics {
  registry: Registry;
  connections: Gauge;
  subscriptions: Gauge;
  eventsPublished: Counter;
  eventsDuplicate: Counter;
  eventsDelivered: Counter;
  eventsReplayed: Counter;
  resets: Counter<"reason">;
  disconnects: Counter<"reason">;
  reconnects: Counter;
  publishLatency: Histogram;
  runDuration: Histogram<"outcome">;
}

export interface MetricsOptions {
  /** Also collect Node's default process metrics (the app's registry does; tests of the app's own metrics need not). */
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    connections: new Gauge({ name: "genstream_stream_connections", help: "Open SSE connections (per-project and multiplexed)", registers }),
    subscriptions: new Gauge({
      name: "genstream_stream_subscriptions",
      help: "Project subscriptions of the multiplexed SSE connections",
      registers,
    }),
    eventsPublished: new Counter({
      name: "genstream_events_published_total",
      help: "Progress events appended to a project log",
      registers,
    }),
    eventsDuplicate: new Counter({
      name: "genstream_events_duplicate_total",
      help: "Publishes dropped because their key was already logged (retried steps)",
      registers,
    }),
    eventsDelivered: new Counter({
      name: "genstream_events_delivered_total",
      help: "Event frames written to connections (live and replayed)",
      registers,
    }),
    eventsReplayed: new Counter({ name: "genstream_events_replayed_total", help: "Event frames replayed after a cursor", registers }),
    resets: new Counter({ name: "genstream_stream_resets_total", help: "Reset frames sent, by reason", labelNames: ["reason"], registers }),
    disconnects: new Counter({
      name: "genstream_stream_disconnects_total",
      help: "Closed connections, by reason (slow-consumer, client-closed, ...)",
      labelNames: ["reason"],
      registers,
    }),
    reconnects: new Counter({
      name: "genstream_stream_reconnects_total",
      help: "Connections that resumed from a cursor or Last-Event-ID",
      registers,
    }),
    publishLatency: new Histogram({
      name: "genstream_publish_seconds",
      help: "Time to append one event to the project log",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    runDuration: new Histogram({
      name: "genstream_run_duration_seconds",
      help: "Generation run duration by outcome",
      labelNames: ["outcome"],
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
  };
}
