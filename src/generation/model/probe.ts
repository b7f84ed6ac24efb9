import type { ModelConfig } from "./config";
import { PROBE_TIMEOUT_MS } from "./tuning";

export interface ModelProbe {
  configured: boolean;
  reachable: boolean;
  /** Round trip of GET {base}/models; undefined when not configured. */
  latencyMs?: number;
  /** Why it is not reachable (HTTP status, timeout, connection refused). */
  error?: string;
  /** The HTTP status when the endpoint answered GET /models with an error (401/403: the key). */
  status?: number;
}

/** What to check when GET /models answers `status`. */
function statusHint(status: number): string {
  if (status === 401 || status === 403) return " (check LLM_API_KEY)";
  if (status === 404) return " (check LLM_BASE_URL: it is the API's base, usually ending in /v1)";
  return "";
}

/**
 * Health's view of the model endpoint: `GET {LLM_BASE_URL}/models`, bounded by PROBE_TIMEOUT_MS.
 * Never throws, so a model that is down cannot fail health.
 */
export async function probeModel(
  config: ModelConfig | null,
  signal?: AbortSignal,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<ModelProbe> {
  if (config === null) return { configured: false, reachable: false };
  const timeout = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(`${config.baseUrl}/models`, {
      headers: config.apiKey === undefined ? {} : { authorization: `Bearer ${config.apiKey}` },
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
    await response.body?.cancel();
    if (response.ok) return { configured: true, reachable: true, latencyMs: latency() };
    return {
      configured: true,
      reachable: false,
      latencyMs: latency(),
      error: `GET /models answered HTTP ${response.status}${statusHint(response.status)}`,
      status: response.status,
    };
  } catch (error) {
    const message = timeout.aborted
      ? `no answer within ${timeoutMs} ms`
      : error instanceof Error
        ? [error.message, error.cause instanceof Error ? error.cause.message : ""].filter(Boolean).join(": ")
        : String(error);
    return { configured: true, reachable: false, latencyMs: latency(), error: message };
  }
}
