import path from "node:path";
import type { TokensResult, TokensTextResult } from "../client/tokens";
import { CpuTimeline } from "../lib/cpu-timeline";
import type { ServerProcess } from "../lib/child";
import { LoadClient } from "../lib/load-client";
import { median, summarize, type Summary } from "../lib/stats";
import type { BenchSizes } from "../options";
import { appEnv, freePort, startApp, startExecutor } from "../servers";
import { TEXT_FLUSH_INTERVAL_MS } from "../../src/generation/model/tuning";
import { CANNED_TODO_PLAN, startFakeModelServer, type RecordedRequest, type WrittenChunk } from "../../src/test/fake-model-server";
import type { Problems } from "./context";
import { createProjects } from "./projects";
import { analyseProject, deliveredTokens, type ProjectAnalysis } from "./tokens-analysis";

/** A free-form description only a model understands; the fake model server answers every request with its todo plan. */
export const TOKENS_MESSAGE = "a todo app where users have lists and lists have tasks";
/** The app limits messages per user and minute (src/server/limits.ts): a few generations per account. */
const GENERATIONS_PER_ACCOUNT = 10;
/** The app process's CPU time is sampled this often; windows are read off the timeline. */
const CPU_SAMPLE_MS = 20;
/** Below this, the streaming window is too short for /proc's 10 ms ticks. */
const MIN_WINDOW_MS = 500;
const wallClock = (): number => performance.timeOrigin + performance.now();
const tagOf = (i: number): string => `(bench generation ${i})`;
const TAG = /\(bench generation (\d+)\)/;

export type TokenVariantName = "coalesced" | "uncoalesced";

/** The app's CPU over one window of the run and the model chunks delivered to connections inside it. */
export interface CpuWindow {
  startAt: number;
  endAt: number;
  ms: number;
  serverCpuMs: number;
  /** Model chunks x connections that received them within the window. */
  deliveredTokens: number;
  /** Server CPU per delivered token, µs (null: the window was too short or empty). */
  cpuUsPerToken: number | null;
  /** The app process's CPU use over the window (100 = one core). */
  cpuPercent: number;
}

export interface TokenVariantResult {
  name: TokenVariantName;
  /** The app's flush interval: LLM_STREAM_FLUSH_MS, or its default when unset (0: every model chunk is its own event). */
  flushMs: number;
  flushSetting: string;
  generations: number;
  connectionsPerGeneration: number;
  /** Model chunks per generation (median; the text is the same for every one). */
  chunksPerGeneration: number;
  /** Achieved model rate per generation: chunks / (last - first written) (median). */
  modelTokensPerSecond: number;
  /** Text events per connection per second of the model's streaming time. */
  eventsPerConnectionPerSecond: Summary;
  /** Text events per generation (median). */
  textEventsPerGeneration: number;
  /** Per chunk: written by the model server -> received by every connection of its generation. */
  latencyMs: Summary;
  /** Per chunk: written -> received by the first connection. */
  firstClientLatencyMs: Summary;
  /**
   * The first chunk written -> every connection has the whole text; the model server holds the answers'
   * ends meanwhile, so no plan step completes and no later step runs inside it.
   */
  streaming: CpuWindow;
  /** The spread of the generations' first chunks (the model server releases them together, each a fraction of a token interval apart). */
  startSpreadMs: number;
  /** message.send called -> the generation's first chunk written (includes the wait for every generation to reach the model). */
  sendToStreamMs: Summary;
  clientLoop: TokensResult["clientLoop"];
  wallMs: number;
}

export interface TokensPhaseResult {
  coalesced: TokenVariantResult;
  uncoalesced: TokenVariantResult;
}

/** The targets of issue 11 (DESIGN.md, "Numbers"). */
export const TOKEN_TARGETS = { p99LatencyMs: 150, cpuRatio: 0.4 } as const;

interface Variant {
  name: TokenVariantName;
  /** LLM_STREAM_FLUSH_MS; null leaves it unset (the app's default). */
  flushMs: number | null;
}
/** What ships (LLM_STREAM_FLUSH_MS unset), and 0: every model chunk published as its own event. */
const COALESCED: Variant = { name: "coalesced", flushMs: null };
const UNCOALESCED: Variant = { name: "uncoalesced", flushMs: 0 };

function window(projects: ProjectAnalysis[], cpu: CpuTimeline, startAt: number, endAt: number): CpuWindow {
  const ms = endAt - startAt;
  const ok = Number.isFinite(ms) && ms >= MIN_WINDOW_MS;
  const serverCpuMs = ok ? cpu.between(startAt, endAt) : Number.NaN;
  const delivered = ok ? deliveredTokens(projects, startAt, endAt) : 0;
  return {
    startAt,
    endAt,
    ms,
    serverCpuMs,
    deliveredTokens: delivered,
    cpuUsPerToken: ok && delivered > 0 && Number.isFinite(serverCpuMs) ? (serverCpuMs * 1000) / delivered : null,
    cpuPercent: ok ? (serverCpuMs / ms) * 100 : Number.NaN,
  };
}

/** The chat request of each generation, by the tag in its message. */
function chunksByGeneration(chunks: Map<RecordedRequest, WrittenChunk[]>, generations: number, problems: string[]): WrittenChunk[][] {
  const out: WrittenChunk[][] = Array.from({ length: generations }, () => []);
  const requests = new Array<number>(generations).fill(0);
  for (const [record, list] of chunks) {
    const i = Number(TAG.exec(JSON.stringify(record.body))?.[1] ?? Number.NaN);
    if (!(i >= 0 && i < generations)) {
      problems.push(`a model request carries no generation tag: ${JSON.stringify(record.body).slice(0, 120)}`);
      continue;
    }
    requests[i] = (requests[i] ?? 0) + 1;
    out[i] = list;
  }
  requests.forEach((n, i) => {
    if (n !== 1) problems.push(`generation ${i}: ${n} model requests, expected one`);
  });
  return out;
}

/**
 * One variant: its own fake model server (in this process), app process (LLM_* env, the given flush
 * interval) and embedded executor; an optional warm-up generation; then `generations` at once with
 * `connectionsPerGeneration` streams each, the app's CPU sampled throughout.
 */
async function runVariant(
  variant: Variant,
  sizes: BenchSizes["tokens"],
  client: LoadClient,
  problems: Problems,
  log: (line: string) => void,
  profileDir: string | undefined,
): Promise<TokenVariantResult> {
  const fake = await startFakeModelServer({ tokenRate: sizes.tokenRate, tokenSize: sizes.tokenSize });
  const content = JSON.stringify(CANNED_TODO_PLAN, null, 2);
  let chunks = new Map<RecordedRequest, WrittenChunk[]>();
  fake.events.on("chunk", (record, c) => {
    const list = chunks.get(record);
    if (list) list.push(c);
    else chunks.set(record, [c]);
  });
  const [port, execPort] = [await freePort(), await freePort()];
  const { env, cleanup } = appEnv(port, execPort);
  Object.assign(env, { LLM_BASE_URL: fake.baseUrl, LLM_MODEL: "fake" });
  delete env.LLM_STREAM_FLUSH_MS;
  if (variant.flushMs !== null) env.LLM_STREAM_FLUSH_MS = String(variant.flushMs);
  const flushSetting = variant.flushMs === null ? `default ${TEXT_FLUSH_INTERVAL_MS} ms` : `LLM_STREAM_FLUSH_MS=${variant.flushMs}`;
  const started: ServerProcess[] = [];
  const fail = (where: string, notes: string[]): void => {
    for (const n of notes.slice(0, 10)) problems.fail(`tokens ${variant.name}${where}: ${n}`);
    if (notes.length > 10) problems.fail(`tokens ${variant.name}${where}: … ${notes.length - 10} more`);
  };
  try {
    const app = await startApp(env, profileDir, `app-tokens-${variant.name}`);
    started.push(app);
    started.push(await startExecutor(env));
    const baseUrl = `http://127.0.0.1:${port}`;
    const target = { host: "127.0.0.1", port };
    /**
     * One batch: the model server holds its answers until every generation of the batch has asked and
     * holds their ends (finish, [DONE]) until every connection has the whole text, so the plan steps
     * cannot move on while the text streams; the app's CPU is sampled meanwhile.
     */
    const batch = async (projects: Array<{ id: string; cookie: string; content: string }>, connections: number) => {
      let releasedAt = Number.NaN;
      void fake.holdStreams(projects.length).then(() => {
        releasedAt = wallClock();
      });
      fake.holdEnds();
      const cpu = new CpuTimeline(app.pid);
      cpu.start(CPU_SAMPLE_MS);
      let text: TokensTextResult;
      try {
        text = await client.call("tokens", {
          baseUrl,
          target,
          projects,
          connectionsPerProject: connections,
          concurrency: 64,
          expectedChars: content.length,
          deadlineMs: sizes.deadlineMs,
        });
      } finally {
        cpu.stop();
        fake.releaseEnds();
      }
      const raw = await client.call("tokens-finish", {});
      const notes: string[] = [];
      if (Number.isNaN(releasedAt)) notes.push(`the model server never got all ${projects.length} requests`);
      if (text.timedOut) notes.push(`not every connection had the whole text within ${sizes.deadlineMs} ms`);
      if (raw.timedOut) notes.push(`not every connection saw its run end within ${sizes.deadlineMs} ms`);
      notes.push(...raw.openFailures.map((e) => `connection failed: ${e}`));
      const perGeneration = chunksByGeneration(chunks, projects.length, notes);
      const analyses = raw.projects.map((p, i) => {
        const a = analyseProject(perGeneration[i] ?? [], p, content, connections);
        notes.push(...a.problems.map((x) => `generation ${i}: ${x}`));
        return a;
      });
      chunks = new Map();
      return { text, raw, analyses, cpu, notes };
    };

    if (sizes.warmup) {
      // First use of every module of the model path, and of the later steps, in this fresh process.
      const [warm] = await createProjects(baseUrl, 1, `bench-tokens-warmup-${variant.name}`);
      if (!warm) throw new Error("no warm-up project");
      fail(" warm-up", (await batch([{ ...warm, content: `${TOKENS_MESSAGE} ${tagOf(0)}` }], 1)).notes);
    }

    const refs = await createProjects(baseUrl, sizes.generations, `bench-tokens-${variant.name}`, GENERATIONS_PER_ACCOUNT);
    const { text, raw, analyses, cpu, notes } = await batch(
      refs.map((r, i) => ({ ...r, content: `${TOKENS_MESSAGE} ${tagOf(i)}` })),
      sizes.connectionsPerGeneration,
    );
    fail("", notes);

    const firsts = analyses.map((a) => a.firstWriteAt);
    const result: TokenVariantResult = {
      name: variant.name,
      flushMs: variant.flushMs ?? TEXT_FLUSH_INTERVAL_MS,
      flushSetting,
      generations: sizes.generations,
      connectionsPerGeneration: sizes.connectionsPerGeneration,
      chunksPerGeneration: median(analyses.map((a) => a.chunks)),
      modelTokensPerSecond: median(analyses.map((a) => ((a.chunks - 1) * 1000) / (a.lastWriteAt - a.firstWriteAt))),
      eventsPerConnectionPerSecond: summarize(analyses.flatMap((a) => a.eventsPerConnectionPerSecond)),
      textEventsPerGeneration: median(analyses.map((a) => a.textEvents)),
      latencyMs: summarize(analyses.flatMap((a) => a.everyClientMs)),
      firstClientLatencyMs: summarize(analyses.flatMap((a) => a.firstClientMs)),
      streaming: window(analyses, cpu, Math.min(...firsts), text.textCompleteAt),
      startSpreadMs: Math.max(...firsts) - Math.min(...firsts),
      sendToStreamMs: summarize(analyses.map((a, i) => a.firstWriteAt - (raw.projects[i]?.sentAt ?? Number.NaN))),
      clientLoop: raw.clientLoop,
      wallMs: raw.wallMs,
    };
    const s = result.streaming;
    log(
      `  ${variant.name} (${flushSetting}): ${result.generations} x ${result.connectionsPerGeneration}, model ${result.modelTokensPerSecond.toFixed(0)} tokens/s; ` +
        `${result.eventsPerConnectionPerSecond.p50.toFixed(1)} events/conn/s; chunk -> every client p50 ${result.latencyMs.p50.toFixed(1)} ms p99 ${result.latencyMs.p99.toFixed(1)} ms; ` +
        `server CPU ${s.cpuUsPerToken === null ? "—" : s.cpuUsPerToken.toFixed(1)} µs/token over ${(s.ms / 1000).toFixed(1)} s at ${s.cpuPercent.toFixed(0)}% of a core ` +
        `(starts spread over ${result.startSpreadMs.toFixed(0)} ms; client loop max ${result.clientLoop.maxMs.toFixed(0)} ms)`,
    );
    return result;
  } finally {
    for (const p of started.reverse()) await p.stop();
    await fake.close();
    cleanup();
  }
}

/**
 * Token streaming (issue 11): generations over the local OpenAI-compatible fake model server, once with
 * the app's default coalescing and once with every model chunk published as its own event, each in
 * a fresh app process started as the other phases start it, before any other server of the run.
 */
export async function measureTokens(
  sizes: BenchSizes["tokens"],
  problems: Problems,
  log: (line: string) => void,
  profileDir: string | undefined,
): Promise<TokensPhaseResult> {
  const client = await LoadClient.start(profileDir && path.join(profileDir, "client-tokens"));
  try {
    const coalesced = await runVariant(COALESCED, sizes, client, problems, log, profileDir);
    const uncoalesced = await runVariant(UNCOALESCED, sizes, client, problems, log, profileDir);
    return { coalesced, uncoalesced };
  } finally {
    await client.stop();
  }
}
