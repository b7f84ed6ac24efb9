import { pingDb } from "../db/client";
import { inngestMode, type ServerEnv } from "../lib/env";
import type { AppServices } from "../services";
import { errorMessage } from "../lib/errors";

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
    return { ok: false, latencyMs: null, error: errorMessage(error) };
  }
}

/** Which job engine serves this app, and whether it answers. */
async function jobEngine(env: ServerEnv): Promise<DependencyStatus & { kind: string; url: string | null }> {
  const mode = inngestMode(env);
  // Inngest Cloud is not probed; a self-hosted Inngest (INNGEST_BASE_URL) is, like a dev server.
  if (mode.kind === "cloud" && !env.INNGEST_BASE_URL) return { kind: "inngest-cloud", url: null, ok: true, latencyMs: null };
  const url = mode.kind === "cloud" ? (env.INNGEST_BASE_URL ?? "") : mode.url;
  let kind = mode.kind === "cloud" ? "inngest-self-hosted" : "inngest-dev-server";
  const status = await timed(async () => {
    const res = await fetch(`${url.replace(/\/$/, "")}/health`, { signal: AbortSignal.timeout(2_000) });
    const body: unknown = await res.json().catch(() => null);
    if (body && typeof body === "object" && "kind" in body && body.kind === "genstream-local-executor") kind = "local-executor";
    if (!res.ok && res.status !== 404) throw new Error(`HTTP ${res.status}`);
  });
  return { kind, url, ...status };
}

export async function healthReport(s: Pick<AppServices, "config" | "db" | "streaming" | "modelHealth">) {
  const service = s.streaming;
  const [database, jobs, eventLog, model] = await Promise.all([
    timed(async () => {
      await pingDb(s.db);
    }),
    jobEngine(s.config),
    timed(() => service.pingLog()),
    // Reported, never part of `status`: without its model the app still serves, stores messages and
    // plans retry, and an orchestrator must not restart instances because a model API is down.
    s.modelHealth.report(),
  ]);
  const handle = s.db;
  const streaming = service.stats();
  // Read after the ping: a good ping closes a half-open circuit, so recovery shows at once.
  const circuit = service.logCircuit;
  const logOk = eventLog.ok && circuit !== "open";
  const ok = database.ok && jobs.ok && logOk;
  return {
    status: ok ? ("ok" as const) : ("degraded" as const),
    database: { ...database, kind: handle.kind },
    jobEngine: jobs,
    eventLog: { ...eventLog, ok: logOk, kind: service.logKind, ...(circuit === null ? {} : { circuit }) },
    streaming: { projects: streaming.projects, connections: streaming.connections, subscriptions: streaming.subscriptions },
    model,
  };
}
