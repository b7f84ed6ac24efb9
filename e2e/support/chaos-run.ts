import { setTimeout as backoff } from "node:timers/promises";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { FIRST_EXAMPLE, FOLLOW_UP_EXAMPLES } from "../../src/generation/help";
import { runDropSchedule } from "../../src/test/chaos/drop-schedule";
import { ObservedClient } from "../../src/test/chaos/observed-client";
import { chaosLog } from "../../src/test/chaos/report";
import { chaosSeed, deriveRandom, percentile, type Random } from "../../src/test/chaos/seeded-random";
import { SharedBrowser } from "../../src/test/chaos/shared-browser";
import type { AppServer } from "./app-server";
import { signUp, type Account } from "./auth-http";
import { serverLog } from "./server-log";
import { createProject, projectState, trpcMutation, TrpcHttpError } from "./trpc-http";

/**
 * Randomized chaos, reproducible by seed (CHAOS_SEED=<n> replays a schedule; timings of the real
 * network still vary). Several projects run several generations on real production servers while
 * real stream clients (over node:http) lose their sockets at seeded-random moments, some of them
 * again mid-handshake. Then every client's applied ids must equal the server's log: zero lost, zero
 * duplicated, same order. With several instances, a project's clients are spread over them and its
 * messages are sent through another instance than the steady client's stream.
 */
export interface ChaosOptions {
  /** The app instances; with more than one they must share the Redis log and the database. */
  instances: readonly AppServer[];
  /** Where accounts sign up (the instances' public URL); default: the first instance. */
  signUpURL?: string;
  request: APIRequestContext;
  projects?: number;
  chaoticPerProject?: number;
  cyclesPerClient?: number;
  /** Expected drops at least (a guard that the chaos really happened). */
  minDrops?: number;
  /**
   * Tabs sharing one connection per browser (src/client/shared-stream): each project's chaotic
   * clients are tabs of one browser, its steady client the tab of another; a drop reopens a tab's
   * source or (every third) kills its browser's one socket under all its tabs.
   */
  sharedConnection?: boolean;
}

const MIN_RUNS_PER_PROJECT = 2;
const MAX_RUNS_PER_PROJECT = 5;
const MESSAGES = [FIRST_EXAMPLE, ...FOLLOW_UP_EXAMPLES];

/** Sends through tRPC with the steady client's connection; retries (backoff) while it is not ready. */
async function send(baseURL: string, account: Account, steady: ObservedClient, projectId: string, content: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const ready = await steady.waitUntilReady();
    try {
      await trpcMutation(baseURL, "message.send", { projectId, content, connectionId: ready.connectionId }, account.headers);
      return;
    } catch (error) {
      if (!(error instanceof TrpcHttpError) || error.code !== "PRECONDITION_FAILED" || attempt >= 5) throw error;
      await backoff(50 * 2 ** attempt);
    }
  }
}

/** Keeps one project generating while its clients are being dropped: at least MIN runs, then until the chaos is over. */
async function generate(
  baseURL: string,
  account: Account,
  steady: ObservedClient,
  projectId: string,
  chaosOver: () => boolean,
): Promise<number> {
  let runs = 0;
  while (runs < MIN_RUNS_PER_PROJECT || (!chaosOver() && runs < MAX_RUNS_PER_PROJECT)) {
    await send(baseURL, account, steady, projectId, MESSAGES[runs % MESSAGES.length] ?? FIRST_EXAMPLE);
    runs++;
    const done = runs;
    await steady.waitFor((s) => s.runs.length === done && s.runs.every((r) => r.status !== "running"));
  }
  return runs;
}

export async function runChaos(options: ChaosOptions): Promise<void> {
  const { instances, request } = options;
  const projectsCount = options.projects ?? 4;
  const chaoticPerProject = options.chaoticPerProject ?? 10;
  const cycles = options.cyclesPerClient ?? 5;
  const first = instances[0];
  if (!first) throw new Error("no instance");
  const at = (i: number): AppServer => instances[i % instances.length] ?? first;
  const seed = chaosSeed();
  test.info().annotations.push({ type: "chaos seed", description: String(seed) });
  const started = performance.now();
  const clients: ObservedClient[] = [];
  const browsers: SharedBrowser[] = [];
  const browsersOf = new Map<string, SharedBrowser[]>();
  try {
    // One account per project keeps each user well under the per-user stream and message limits.
    const signUpURL = options.signUpURL ?? first.baseURL;
    const accounts = await Promise.all(Array.from({ length: projectsCount }, (_, i) => signUp(signUpURL, `Chaos ${i + 1}`)));
    const projects = await Promise.all(accounts.map((account, i) => createProject(at(i).baseURL, `Chaos ${i + 1}`, account.headers)));
    const chaotic: { client: ObservedClient; random: Random }[] = [];
    const steady: ObservedClient[] = [];
    for (const [p, projectId] of projects.entries()) {
      const headers = accounts[p]?.headers ?? {};
      const { cursor } = await projectState(at(p).baseURL, projectId, headers);
      const browser = (random: Random) => {
        // Stream on one instance, subscribe through the next (with two, across the control channel).
        const created = new SharedBrowser({ streamURL: at(p).baseURL, callsURL: at(p + 1).baseURL, headers, random });
        browsers.push(created);
        browsersOf.set(projectId, [...(browsersOf.get(projectId) ?? []), created]);
        return created;
      };
      const steadyBrowser = options.sharedConnection ? browser(deriveRandom(seed, 2_000_000 + p)) : undefined;
      const chaosBrowser = options.sharedConnection ? browser(deriveRandom(seed, 3_000_000 + p)) : undefined;
      const open = (baseURL: string, random?: Random, shared?: SharedBrowser) =>
        new ObservedClient({
          baseURL,
          projectId,
          initialCursor: cursor,
          headers,
          ...(random ? { random } : {}),
          ...(shared ? { browser: shared } : {}),
        });
      const quiet = open(at(p).baseURL, undefined, steadyBrowser);
      steady.push(quiet);
      clients.push(quiet);
      for (let c = 0; c < chaoticPerProject; c++) {
        const random = deriveRandom(seed, p * 1_000 + c);
        const client = open(at(p + c + 1).baseURL, deriveRandom(seed, 1_000_000 + p * 1_000 + c), chaosBrowser);
        chaotic.push({ client, random });
        clients.push(client);
      }
    }
    await Promise.all(clients.map((c) => c.waitUntilReady()));

    let over = false;
    const schedules = Promise.all(
      chaotic.map(({ client, random }) => runDropSchedule(client, random, { cycles, maxUpMs: 400, handshakeDropRate: 0.3 })),
    ).finally(() => (over = true));
    // The send goes through the next instance: with two, never the one holding the steady stream.
    const runs = await Promise.all(
      projects.map((projectId, p) =>
        generate(at(p + 1).baseURL, accounts[p] as Account, steady[p] as ObservedClient, projectId, () => over),
      ),
    );
    await schedules;

    let lost = 0;
    let duplicated = 0;
    let wireDuplicated = 0;
    for (const [p, projectId] of projects.entries()) {
      const logIds = (await serverLog(request, first.baseURL, projectId)).map((e) => e.id);
      expect(logIds.length).toBeGreaterThan(0);
      const last = logIds.at(-1);
      for (const [c, client] of clients.filter((c) => c.client.projectId === projectId).entries()) {
        await client.waitFor((s) => s.status === "ready" && s.cursor === last);
        const applied = new Set(client.appliedIds);
        lost += logIds.filter((id) => !applied.has(id)).length;
        duplicated += client.appliedIds.length - applied.size;
        wireDuplicated += client.wireIds.length - new Set(client.wireIds).size;
        if (!equalIds(client.appliedIds, logIds) || client.resets.length > 0) {
          await attachTraces(`project ${p + 1}, client ${c} (seed ${seed})`, browsersOf.get(projectId) ?? []);
        }
        expect(client.appliedIds, `project ${p + 1}, client ${c} (0: steady), applied ids (seed ${seed})`).toEqual(logIds);
        expect(client.resets).toEqual([]);
      }
    }

    const drops = chaotic.reduce((n, { client }) => n + client.drops, 0);
    const dropToReady = chaotic.flatMap(({ client }) => client.dropToReadyMs);
    // A client's first drop waits at most one base backoff; later ones back off further (flapping).
    const firstDropToReady = chaotic.map(({ client }) => client.dropToReadyMs[0] ?? Number.NaN).filter((ms) => !Number.isNaN(ms));
    const openToReady = clients.flatMap((c) => c.openToReadyMs);
    const figures = {
      seed,
      cycles: drops,
      runs: runs.reduce((a, b) => a + b, 0),
      projects: projectsCount,
      clients: clients.length,
      lost,
      duplicated,
      wireDuplicated,
      firstDropToReadyP50Ms: Math.round(percentile(firstDropToReady, 50)),
      firstDropToReadyP95Ms: Math.round(percentile(firstDropToReady, 95)),
      dropToReadyP50Ms: Math.round(percentile(dropToReady, 50)),
      dropToReadyP95Ms: Math.round(percentile(dropToReady, 95)),
      openToReadyP50Ms: Math.round(percentile(openToReady, 50) * 10) / 10,
      openToReadyP95Ms: Math.round(percentile(openToReady, 95) * 10) / 10,
      eventLog: first.eventLogKind,
      instances: instances.length,
      sharedConnection: options.sharedConnection === true,
      sharedSockets: browsers.reduce((n, b) => n + b.sockets, 0),
      sharedSocketDrops: browsers.reduce((n, b) => n + b.drops, 0),
      durationMs: Math.round(performance.now() - started),
    };
    chaosLog.info(figures, "chaos summary");
    test.info().annotations.push({ type: "chaos summary", description: JSON.stringify(figures) });
    expect(drops).toBeGreaterThanOrEqual(options.minDrops ?? projectsCount * chaoticPerProject * cycles);
    expect({ lost, duplicated, wireDuplicated }).toEqual({ lost: 0, duplicated: 0, wireDuplicated: 0 });
  } finally {
    for (const c of clients) c.close();
    for (const b of browsers) b.close();
  }
}

function equalIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** A failed run's evidence: what crossed each of the project's shared browsers' holders, in order. */
async function attachTraces(what: string, browsers: readonly SharedBrowser[]): Promise<void> {
  for (const [b, browser] of browsers.entries()) {
    const body = `${what}, browser ${b} (0: steady)\n${browser.trace.join("\n")}\n`;
    await test.info().attach(`holder trace ${b}`, { body, contentType: "text/plain" });
  }
}
