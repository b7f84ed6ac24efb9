import { z } from "zod";
import { errorMessage } from "../lib/errors";
import { inngestMode, type ServerEnv } from "../lib/env";

/**
 * What the job engine says of one run, from its REST API (`GET /v1/runs/{runId}`, the shape Inngest
 * documents and the embedded executor serves): it knows the run (with its status), or it does not.
 */
export type EngineRunState = { kind: "known"; status: string } | { kind: "unknown" };

/** What the engine says of one event (`GET /v1/events/{eventId}/runs`): it has it (with the runs it started, maybe none yet), or not. */
export type EngineEventState = { kind: "known"; runs: number } | { kind: "unknown" };

/**
 * The engine could not tell: nothing can be concluded. `scope` "engine": it cannot be asked at all
 * (down, refused our key, overloaded); "run": it refused this one lookup (a run id it does not take).
 */
export class EngineRunsUnavailableError extends Error {
  override readonly name = "EngineRunsUnavailableError";
  constructor(
    message: string,
    readonly scope: "engine" | "run",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Answers about the engine itself, not about the run asked for. */
const ENGINE_WIDE = new Set([401, 403, 408, 429]);

export interface EngineRuns {
  /** Throws {@link EngineRunsUnavailableError} when the engine cannot tell. */
  lookup(runId: string): Promise<EngineRunState>;
  /** Throws {@link EngineRunsUnavailableError} when the engine cannot tell. */
  eventRuns(eventId: string): Promise<EngineEventState>;
}

/** Inngest's answer carries more; the status is what the app needs. */
const runResponseSchema = z.object({ data: z.object({ status: z.string().min(1) }) });
const eventRunsResponseSchema = z.object({ data: z.array(z.unknown()) });

/** Inngest Cloud's API; a self-hosted Inngest sets INNGEST_BASE_URL. */
const INNGEST_CLOUD_API = "https://api.inngest.com";

/** Where the runs API lives for this configuration, and the key it takes (Inngest's REST API takes the signing key as bearer). */
export function engineRunsTarget(config: ServerEnv): { baseUrl: string; signingKey: string | undefined } {
  const mode = inngestMode(config);
  const baseUrl = mode.kind === "dev" ? mode.url : (config.INNGEST_BASE_URL ?? INNGEST_CLOUD_API);
  return { baseUrl, signingKey: config.INNGEST_SIGNING_KEY };
}

export interface EngineRunsApiOptions {
  baseUrl: string;
  signingKey?: string | undefined;
  /** Per lookup; an engine that does not answer in time cannot tell. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The engine's REST API over HTTP: 200 → known, 404 → unknown, anything else → it cannot tell. */
export function engineRunsApi(options: EngineRunsApiOptions): EngineRuns {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.signingKey) headers.authorization = `Bearer ${options.signingKey}`;

  /** The parsed answer, or null for a 404 (the engine does not have `what`). */
  async function get<T>(path: string, what: string, schema: z.ZodType<T>): Promise<T | null> {
    const url = new URL(path, withSlash(options.baseUrl));
    let response: Response;
    try {
      response = await doFetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new EngineRunsUnavailableError(`The job engine at ${options.baseUrl} did not answer: ${errorMessage(error)}`, "engine", {
        cause: error,
      });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel();
      const scope = response.status >= 500 || ENGINE_WIDE.has(response.status) ? "engine" : "run";
      throw new EngineRunsUnavailableError(`The job engine answered ${response.status} for ${what}`, scope);
    }
    const parsed = schema.safeParse(await response.json().catch(() => null));
    if (!parsed.success) throw new EngineRunsUnavailableError(`The job engine's answer for ${what} is not in Inngest's shape`, "engine");
    return parsed.data;
  }

  return {
    async lookup(runId) {
      const found = await get(`v1/runs/${encodeURIComponent(runId)}`, `run ${runId}`, runResponseSchema);
      return found ? { kind: "known", status: found.data.status } : { kind: "unknown" };
    },
    async eventRuns(eventId) {
      const found = await get(`v1/events/${encodeURIComponent(eventId)}/runs`, `event ${eventId}`, eventRunsResponseSchema);
      return found ? { kind: "known", runs: found.data.length } : { kind: "unknown" };
    },
  };
}

function withSlash(base: string): string {
  return base.endsWith("/") ? base : `${base}/`;
}
