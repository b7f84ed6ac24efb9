import { errorMessage } from "../../lib/errors";
import type { ModelConfig } from "./config";
import { probeModel, type ModelProbe } from "./probe";
import { MODEL_HEALTH_FRESH_MS, MODEL_HEALTH_MAX_STALE_MS, PROBE_TIMEOUT_MS } from "./tuning";

/** The model endpoint as /api/health reports it. Its state never makes health degraded. */
export interface ModelHealthReport {
  /** LLM_BASE_URL (and LLM_MODEL) are set: the model plans; otherwise the embedded grammar does. */
  configured: boolean;
  /** GET {LLM_BASE_URL}/models answered 2xx within PROBE_TIMEOUT_MS. */
  reachable: boolean;
  /** Round trip of that probe; null when not configured. */
  latencyMs: number | null;
  /** Why it is not reachable: the HTTP status, a timeout, a refused connection. */
  error?: string;
  /** The HTTP status when the endpoint answered with an error (401/403: the API key). */
  status?: number;
  /** LLM_BASE_URL without credentials, query or fragment. */
  url?: string;
  model?: string;
  /** When the probe this report comes from started (ISO 8601). */
  checkedAt?: string;
}

export interface ModelHealthOptions {
  /** A probe this young is reported as it is. */
  freshMs?: number;
  /** An older probe up to this age is reported at once while a new one runs; past it the report waits for the new one. */
  maxStaleMs?: number;
  /** Each probe's own bound. */
  timeoutMs?: number;
  /** Clock (ms since the epoch). */
  now?: () => number;
}

/** The endpoint as shown publicly: a URL in LLM_BASE_URL may carry a user, a password or a key in its query. */
function displayUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** A probe's error as shown publicly: no user or password of a URL in it (fetch quotes the URL it refused). */
function publicError(error: string, config: ModelConfig): string {
  return error
    .split(config.baseUrl)
    .join(displayUrl(config.baseUrl))
    .replace(/\/\/[^/\s@]+@/g, "//");
}

/**
 * Health's view of the model endpoint, probed with `GET {LLM_BASE_URL}/models`.
 *
 * Health is polled by every open tab's banner, by load balancers and container health checks, so
 * it must stay fast and must not turn into a stream of requests to a (possibly paid, rate-limited)
 * model API. Hence:
 * - at most one probe in flight, shared by every caller, and none while the last one is fresh
 *   (`freshMs`): one GET /models per 10 s however often health is called;
 * - stale-while-revalidate: an older result (up to `maxStaleMs`) is answered at once while the next
 *   probe runs, so a slow or black-holed model endpoint never slows health down in steady state; a
 *   health call waits for a probe only when there is no result younger than `maxStaleMs` (the first
 *   call, or after a quiet minute), and then for at most the probe's own timeout (PROBE_TIMEOUT_MS);
 * - `checkedAt` says how old the answer is.
 * A probe never throws (probeModel reports every failure), so the model cannot fail health.
 */
export class ModelHealth {
  private readonly freshMs: number;
  private readonly maxStaleMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private last: { report: ModelHealthReport; startedAt: number } | undefined;
  private inFlight: Promise<ModelHealthReport> | undefined;
  private readonly closing = new AbortController();

  constructor(
    private readonly config: ModelConfig | null,
    options: ModelHealthOptions = {},
  ) {
    this.freshMs = options.freshMs ?? MODEL_HEALTH_FRESH_MS;
    this.maxStaleMs = options.maxStaleMs ?? MODEL_HEALTH_MAX_STALE_MS;
    this.timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  async report(): Promise<ModelHealthReport> {
    if (this.config === null) return { configured: false, reachable: false, latencyMs: null };
    const last = this.last;
    const age = last === undefined ? Number.POSITIVE_INFINITY : this.now() - last.startedAt;
    if (last !== undefined && age < this.freshMs) return last.report;
    const probing = this.inFlight ?? this.probe(this.config);
    if (last !== undefined && age < this.maxStaleMs) return last.report;
    return probing;
  }

  /** Aborts a probe in flight (the services are closing). */
  close(): void {
    this.closing.abort();
  }

  private probe(config: ModelConfig): Promise<ModelHealthReport> {
    const startedAt = this.now();
    // One probe at a time (report() starts one only when none is in flight), so settling clears it.
    const probing = probeModel(config, this.closing.signal, this.timeoutMs).then(
      (probe) => this.settle(config, probe, startedAt),
      (error: unknown) =>
        // probeModel reports failures instead of throwing; this only guards health against a bug in it.
        this.settle(config, { configured: true, reachable: false, error: errorMessage(error) }, startedAt),
    );
    this.inFlight = probing;
    return probing;
  }

  private settle(config: ModelConfig, probe: ModelProbe, startedAt: number): ModelHealthReport {
    const report: ModelHealthReport = {
      configured: true,
      reachable: probe.reachable,
      latencyMs: probe.latencyMs ?? null,
      ...(probe.error === undefined ? {} : { error: publicError(probe.error, config) }),
      ...(probe.status === undefined ? {} : { status: probe.status }),
      url: displayUrl(config.baseUrl),
      model: config.model,
      checkedAt: new Date(startedAt).toISOString(),
    };
    this.last = { report, startedAt };
    this.inFlight = undefined;
    return report;
  }
}
