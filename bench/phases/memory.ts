import { Socket } from "node:net";
import { measureE2e } from "../client/e2e";
import { signUp } from "../lib/accounts";
import { sampleProcess } from "../lib/proc";
import type { ServerProcess } from "../lib/child";
import { appEnv, collectGarbage, freePort, startCompiledApp, startExecutor } from "../servers";
import { E2E_MESSAGE } from "./e2e";

const MB = 2 ** 20;
/** RSS is read this often while a generation runs; the peak is the largest sample. */
const SAMPLE_EVERY_MS = 20;

export type MemoryDatabase = "postgres" | "pglite";

export type MemoryColumn =
  | {
      ran: true;
      database: MemoryDatabase;
      /** After start-up, one health request and a full GC: what the process holds doing nothing. */
      idleRssBytes: number;
      /** After the executor's sync, a sign-up and a first stream (every route a generation uses loaded), full GC. */
      warmRssBytes: number;
      /** Largest RSS sampled from message.send to the run's terminal event, over `runs` runs. */
      peakRssBytes: number;
      /** Idle again after the runs and a full GC (the TypeScript worker may still be alive). */
      afterRunsRssBytes: number;
      runs: number;
      terminal: Record<string, number>;
    }
  | { ran: false; database: MemoryDatabase; reason: string };

export interface MemoryResult {
  postgres: MemoryColumn;
  pglite: MemoryColumn;
}

/** The targets of a 512 MB container (DESIGN.md, "Numbers"). */
export const MEMORY_TARGETS = { postgresIdleMb: 250, postgresPeakMb: 400, pgliteIdleMb: 450 } as const;

async function reachable(url: string): Promise<string | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(null);
    });
    socket.once("error", (err) => resolve(`${url} is not reachable (${err.message})`));
    socket.connect(Number(port || 5432), hostname || "127.0.0.1");
  });
}

async function idleRss(proc: ServerProcess, baseUrl: string): Promise<number> {
  // The health answer proves start-up work queued after "listening" has run (it shares the event loop).
  const res = await fetch(`${baseUrl}/api/health`);
  await res.arrayBuffer();
  await collectGarbage(proc);
  return sampleProcess(proc.pid).rssBytes;
}

/**
 * The app process's memory as a 512 MB container sees it: the app started exactly as `npm start`
 * does (migrations first, then node dist/server.mjs; production, own database), idle, then during real generations through the embedded
 * executor (message.send over tRPC, the run followed on the project's stream).
 */
async function measureColumn(database: MemoryDatabase, postgresUrl: string, runs: number, deadlineMs: number): Promise<MemoryColumn> {
  if (database === "postgres") {
    const problem = await reachable(postgresUrl);
    if (problem) return { ran: false, database, reason: problem };
  }
  const [port, execPort] = [await freePort(), await freePort()];
  const saved = process.env.DATABASE_URL;
  if (database === "postgres") process.env.DATABASE_URL = postgresUrl;
  else delete process.env.DATABASE_URL;
  const { env, cleanup } = appEnv(port, execPort);
  if (saved === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = saved;

  const started: ServerProcess[] = [];
  try {
    const app = await startCompiledApp(env, `memory-${database}`);
    started.push(app);
    const baseUrl = `http://127.0.0.1:${port}`;
    const idleRssBytes = await idleRss(app, baseUrl);
    started.push(await startExecutor(env));
    const account = await signUp(baseUrl, `bench-memory-${database}`);
    const warmRssBytes = await idleRss(app, baseUrl);
    let peakRssBytes = sampleProcess(app.pid).rssBytes;
    const sampler = setInterval(() => {
      peakRssBytes = Math.max(peakRssBytes, sampleProcess(app.pid).rssBytes);
    }, SAMPLE_EVERY_MS);
    let result;
    try {
      result = await measureE2e(baseUrl, { host: "127.0.0.1", port }, [account], runs, runs, E2E_MESSAGE, true, deadlineMs);
    } finally {
      clearInterval(sampler);
    }
    if (result.failures.length > 0) return { ran: false, database, reason: `generation failed: ${result.failures.join("; ")}` };
    const afterRunsRssBytes = await idleRss(app, baseUrl);
    return { ran: true, database, idleRssBytes, warmRssBytes, peakRssBytes, afterRunsRssBytes, runs, terminal: result.terminal };
  } finally {
    for (const p of started.reverse()) await p.stop();
    cleanup();
  }
}

/** PostgreSQL first (DATABASE_URL, else CI's default), then PGlite in a fresh directory. */
export async function measureMemory(runs: number, deadlineMs: number, log: (line: string) => void): Promise<MemoryResult> {
  const postgresUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
  const postgres = await measureColumn("postgres", postgresUrl, runs, deadlineMs);
  const pglite = await measureColumn("pglite", postgresUrl, runs, deadlineMs);
  for (const c of [postgres, pglite]) {
    log(
      c.ran
        ? `  ${c.database}: idle ${(c.idleRssBytes / MB).toFixed(0)} MB, warm ${(c.warmRssBytes / MB).toFixed(0)} MB, peak during ${c.runs} generation(s) ${(c.peakRssBytes / MB).toFixed(0)} MB, after ${(c.afterRunsRssBytes / MB).toFixed(0)} MB ${JSON.stringify(c.terminal)}`
        : `  ${c.database}: not measured — ${c.reason}`,
    );
  }
  return { postgres, pglite };
}

/** The memory table: PostgreSQL and PGlite side by side, with the targets. */
export function formatMemory(m: MemoryResult): string {
  const mb = (c: MemoryColumn, pick: (c: Extract<MemoryColumn, { ran: true }>) => number): string =>
    c.ran ? (pick(c) / MB).toFixed(0) : "—";
  const t = MEMORY_TARGETS;
  const rows = [
    ["app process RSS (MB)", "PostgreSQL", "PGlite", "target"],
    [
      "idle (after start, full GC)",
      mb(m.postgres, (c) => c.idleRssBytes),
      mb(m.pglite, (c) => c.idleRssBytes),
      `PostgreSQL <= ${t.postgresIdleMb}, PGlite <= ${t.pgliteIdleMb}`,
    ],
    ["after sign-up and the job engine's sync (full GC)", mb(m.postgres, (c) => c.warmRssBytes), mb(m.pglite, (c) => c.warmRssBytes), ""],
    [
      "peak during a generation",
      mb(m.postgres, (c) => c.peakRssBytes),
      mb(m.pglite, (c) => c.peakRssBytes),
      `PostgreSQL <= ${t.postgresPeakMb}`,
    ],
    [
      "idle after the generations (full GC; checker worker still up)",
      mb(m.postgres, (c) => c.afterRunsRssBytes),
      mb(m.pglite, (c) => c.afterRunsRssBytes),
      "",
    ],
  ];
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join("  ")).join("\n");
}
