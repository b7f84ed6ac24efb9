import type { ModelConfig } from "./config";
import { PROBE_TIMEOUT_MS } from "./tuning";

export interface ModelProbe {
  configured: boolean;
  reachable: boolean;
  /** Round trip of GET {base}/models; undefined when not configured. */
  latencyMs?: number;
  /** Why it is not reachable (HTTP status, timeout, connection refused). */
  error?: string;
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
    const hint = response.status === 401 || response.status === 403 ? " (check LLM_API_KEY)" : "";
    return { configured: true, reachable: false, latencyMs: latency(), error: `GET /models answered HTTP ${response.status}${hint}` };
  } catch (error) {
    const message = timeout.aborted
      ? `no answer within ${timeoutMs} ms`
      : error instanceof Error
        ? [error.message, error.cause instanceof Error ? error.cause.message : ""].filter(Boolean).join(": ")
        : String(error);
    return { configured: true, reachable: false, latencyMs: latency(), error: message };
  }
}
