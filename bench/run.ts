import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { ServerProcess } from "./lib/child";
import { LoadClient } from "./lib/load-client";
import { parseOptions } from "./options";
import { measureRamp } from "./phases/ramp";
import { Problems, type BenchServer, type PhaseContext } from "./phases/context";
import { measureE2e } from "./phases/e2e";
import { formatMemory, measureMemory } from "./phases/memory";
import { judgeMemory, judgeTokens } from "./report/targets";
import { measureTokens } from "./phases/tokens";
import { measureFanout } from "./phases/fanout";
import { measureMux } from "./phases/mux";
import { createProjects } from "./phases/projects";
import { measureSteady } from "./phases/steady";
import { describeMachine, METHOD } from "./report/machine";
import { formatReport, formatTokens } from "./report/print";
import { buildRows, buildTokenRows } from "./report/rows";
import { judgeTargets } from "./report/targets";
import type { BenchReport, Measurements } from "./report/types";
import { fileLimitNote } from "./lib/file-limit";
import { FD_MARGIN } from "./phases/ramp";
import { appEnv, checkRedis, ensureBuild, freePort, startApp, startBaseline } from "./servers";

/**
 * `npm run bench [-- --quick] [--profile] [--build] [--memory] [--tokens]`: the bare node:http baseline and Genstream's own
 * stream path (production server entry), measured side by side by a separate load-client process.
 * Prints one table, writes bench/results/<timestamp>.json. Exit 1 when the harness broke or any
 * delivery was missed; targets are reported, not asserted.
 */
async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const { sizes } = options;
  const startedAt = new Date();
  const t0 = performance.now();
  const runId = startedAt.toISOString().replace(/[:.]/g, "-");
  const profileDir = options.profile ? path.resolve("bench/results/profiles", runId) : undefined;
  const log = (line: string): void => console.log(line);

  await ensureBuild(options.build);
  if (options.memoryOnly) {
    log(`Memory (app process RSS; load average ${loadavg()[0]?.toFixed(2)} on ${cpus().length} cores)`);
    const memory = await measureMemory(sizes.memory.runs, sizes.e2e.deadlineMs, log);
    log(
      `\n${formatMemory(memory)}\n\nTargets:\n${judgeMemory(memory)
        .map((t) => `  [${t.status}] ${t.target}: ${t.detail}`)
        .join("\n")}`,
    );
    return memory.postgres.ran && memory.pglite.ran ? 0 : 1;
  }
  const problems = new Problems();
  if (options.tokensOnly) {
    log(`Token streaming (load average ${loadavg()[0]?.toFixed(2)} on ${cpus().length} cores)`);
    const tokens = await measureTokens(sizes.tokens, problems, log, profileDir);
    log(
      `\n${formatTokens(buildTokenRows(tokens), tokens)}\n\nTargets:\n${judgeTokens(tokens)
        .map((t) => `  [${t.status}] ${t.target}: ${t.detail}`)
        .join("\n")}\n\nCorrectness: ${problems.failed ? "" : "no problems"}${problems.notes.map((p) => `\n  ! ${p}`).join("")}`,
    );
    return problems.failed ? 1 : 0;
  }
  if (options.redisUrl) await checkRedis(options.redisUrl);
  const fdNote = fileLimitNote(sizes.capacity.steps.at(-1) ?? 0, FD_MARGIN + 64);
  if (fdNote) log(`Warning: ${fdNote}`);
  const [basePort, appPort, execPort, redisPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const { env, cleanup } = appEnv(appPort, execPort);
  const redisApp = options.redisUrl ? appEnv(redisPort, execPort, options.redisUrl) : null;
  const loadBefore = loadavg()[0] ?? 0;
  if (loadBefore > cpus().length / 2) {
    log(
      `Warning: load average ${loadBefore.toFixed(2)} on ${cpus().length} cores before the run — other processes compete for the CPU; figures will be noisy.`,
    );
  }
  // First, while no other server of the run is up: the app's own memory, PostgreSQL and PGlite.
  log("Memory (app process RSS, idle and during generations)");
  const memory = await measureMemory(sizes.memory.runs, sizes.e2e.deadlineMs, log);
  // Then, still alone on the machine: token streaming over a model, each variant in a fresh app process.
  log(
    `Token streaming (${sizes.tokens.generations} generations x ${sizes.tokens.connectionsPerGeneration} connections, ${sizes.tokens.tokenRate} tokens/s; coalesced, then uncoalesced)`,
  );
  const tokens = await measureTokens(sizes.tokens, problems, log, profileDir);
  const started: Array<ServerProcess | LoadClient> = [];
  try {
    const variants = redisApp ? `, app with REDIS_URL=${options.redisUrl}` : "";
    log(
      `Starting baseline, app (production, in-memory log)${variants} and a load client each${profileDir ? ` — CPU profiles in ${profileDir}` : ""}`,
    );
    const boot = await Promise.allSettled([
      startBaseline(basePort, profileDir),
      startApp(env, profileDir),
      redisApp ? startApp(redisApp.env, profileDir, "app-redis") : Promise.resolve(null),
      LoadClient.start(profileDir && path.join(profileDir, "client-baseline")),
      LoadClient.start(profileDir && path.join(profileDir, "client-app")),
      redisApp ? LoadClient.start(profileDir && path.join(profileDir, "client-app-redis")) : Promise.resolve(null),
    ] as const);
    for (const b of boot) if (b.status === "fulfilled" && b.value) started.push(b.value);
    const [baseline, app, appRedis, baselineClient, appClient, redisClient] = boot.map((b) => {
      if (b.status === "rejected") throw b.reason;
      return b.value;
    }) as [ServerProcess, ServerProcess, ServerProcess | null, LoadClient, LoadClient, LoadClient | null];
    const fanoutCount = sizes.fanout.sizes.length;
    const all = await createProjects(`http://127.0.0.1:${appPort}`, fanoutCount + sizes.projects, "bench");
    const projects = { fanout: all.slice(0, fanoutCount), spread: all.slice(fanoutCount) };
    const servers: [BenchServer, BenchServer] = [
      { name: "baseline", projects, target: { host: "127.0.0.1", port: basePort }, proc: baseline, client: baselineClient },
      { name: "genstream", projects, target: { host: "127.0.0.1", port: appPort }, proc: app, client: appClient },
    ];
    let redis: BenchServer | null = null;
    if (appRedis && redisClient) {
      // Its own database: its own accounts and projects, as many as the in-memory app's.
      const own = await createProjects(`http://127.0.0.1:${redisPort}`, fanoutCount + sizes.projects, "bench-redis");
      redis = {
        name: "redis",
        projects: { fanout: own.slice(0, fanoutCount), spread: own.slice(fanoutCount) },
        target: { host: "127.0.0.1", port: redisPort },
        proc: appRedis,
        client: redisClient,
      };
    }
    const ctx: PhaseContext = { servers, redis, sizes, problems, log };

    log("Capacity ramp (RSS with connections held; connection setup)");
    const ramps = { baseline: await measureRamp(ctx, servers[0]), genstream: await measureRamp(ctx, servers[1]) };
    if (redis) {
      const r = await measureRamp(ctx, redis, "phases");
      log(
        `  setup genstream+redis: ${r.setup.perSecond.toFixed(0)} conn/s, ready p50 ${r.setup.readyMs.p50.toFixed(1)} ms p99 ${r.setup.readyMs.p99.toFixed(1)} ms`,
      );
    }
    const capacity = { baseline: ramps.baseline.capacity, genstream: ramps.genstream.capacity };
    const setup = { baseline: ramps.baseline.setup, genstream: ramps.genstream.setup };
    for (const [name, r] of Object.entries(setup)) {
      log(`  setup ${name}: ${r.perSecond.toFixed(0)} conn/s, ready p50 ${r.readyMs.p50.toFixed(1)} ms p99 ${r.readyMs.p99.toFixed(1)} ms`);
    }
    log("Fan-out latency");
    const fanout = [];
    for (const i of sizes.fanout.sizes.keys()) fanout.push(await measureFanout(ctx, i));
    log("Steady state");
    const steady = await measureSteady(ctx);
    log("Multiplexed stream (GET /api/stream + stream.subscribe): setup, capacity, fan-out, steady, subscriptions");
    const mux = await measureMux(ctx, steady.comparedAtEventsPerSec);
    log("End to end (message.send -> run.started)");
    const e2e = await measureE2e(ctx, env);

    const measurements: Measurements = { capacity, setup, fanout, steady, mux, e2e, memory, tokens };
    const report: BenchReport = {
      startedAt: startedAt.toISOString(),
      mode: sizes.mode,
      durationMs: performance.now() - t0,
      machine: describeMachine(loadBefore, loadavg()[0] ?? 0),
      config: {
        redisUrl: options.redisUrl,
        database: env.DATABASE_URL ? "postgres (DATABASE_URL)" : "pglite (fresh directory)",
        fileLimitNote: fdNote,
      },
      method: METHOD,
      table: buildRows(measurements),
      tokenTable: buildTokenRows(tokens),
      targets: judgeTargets(measurements),
      correctness: { misses: ctx.problems.misses, problems: ctx.problems.notes },
      measurements,
    };
    log(`\n${formatReport(report)}`);
    mkdirSync("bench/results", { recursive: true });
    const file = path.join("bench/results", `${runId}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`\nWrote ${file}`);
    if (profileDir)
      log(
        `CPU profiles (written when the servers exit): ${profileDir}/{baseline,app,app-redis,client-*}/ — summarise with: npx tsx bench/profile-summary.ts <file.cpuprofile>`,
      );
    return ctx.problems.failed ? 1 : 0;
  } catch (err) {
    for (const p of started) {
      if (p instanceof ServerProcess)
        console.error(`--- ${p.name} (${p.running ? "running" : "exited"}), last log lines ---\n${p.tail(15)}`);
    }
    throw err;
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    cleanup();
    redisApp?.cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
