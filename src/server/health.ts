import { getDb, pingDb } from "../db/client";
import { getStreamingService } from "../streaming";
import { env, inngestMode } from "../lib/env";

export interface DependencyStatus {
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

async function timed(check: () => Promise<void>): Promise<DependencyStatus> {
  const started = performance.now();
  try {
    await check();
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    return { ok: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Which job engine serves this app, and whether it answers. */
async function jobEngine(): Promise<DependencyStatus & { kind: string; url: string | null }> {
  const mode = inngestMode(env);
  if (mode.kind === "cloud") return { kind: "inngest-cloud", url: null, ok: true, latencyMs: null };
  let kind = "inngest-dev-server";
  const status = await timed(async () => {
    const res = await fetch(`${mode.url}/health`, { signal: AbortSignal.timeout(2_000) });
    const body: unknown = await res.json().catch(() => null);
    if (body && typeof body === "object" && "kind" in body && body.kind === "genstream-local-executor") kind = "local-executor";
    if (!res.ok && res.status !== 404) throw new Error(`HTTP ${res.status}`);
  });
  return { kind, url: mode.url, ...status };
}

export async function healthReport() {
  const service = getStreamingService();
  const [database, jobs, eventLog] = await Promise.all([
    timed(async () => {
      await pingDb(await getDb());
    }),
    jobEngine(),
    timed(() => service.pingLog()),
  ]);
  const handle = await getDb().catch(() => null);
  const streaming = service.stats();
  const ok = database.ok && jobs.ok && eventLog.ok;
  return {
    status: ok ? ("ok" as const) : ("degraded" as const),
    database: { ...database, kind: handle?.kind ?? null },
    jobEngine: jobs,
    eventLog: { ...eventLog, kind: service.logKind },
    streaming: { projects: streaming.projects, connections: streaming.connections },
  };
}
