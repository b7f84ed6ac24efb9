import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { dropSchemas } from "../src/test/schemas";
import { parseSseStream } from "../src/streaming/sse-parser";
import { PRODUCTION_STEPS, type ProductionStep } from "./production-steps";

/**
 * `npm run test:production-install` (CI, after `npm test`): deploys HEAD the way the Dockerfile does,
 * without Docker. A clean copy of the commit (git archive) in a temp dir, then the Dockerfile's steps
 * (scripts/production-steps.ts: npm ci, build, prune to production dependencies), a `.env` with the
 * secrets, `npm start`; waits for /api/health, signs up, creates a project, opens its stream, sends a
 * message through tRPC and waits for the run's `run.completed` on the stream; then stops the app.
 * Uses DATABASE_URL / REDIS_URL when set (CI sets both), else PGlite and the in-memory log.
 * Uncommitted changes are not part of the copy: commit first. `--keep` keeps the temp dir.
 */
const HEALTH_DEADLINE_MS = 180_000;
const RUN_DEADLINE_MS = 120_000;
const keep = process.argv.includes("--keep");
const t0 = performance.now();
const say = (line: string): void => console.log(`[production-install +${((performance.now() - t0) / 1000).toFixed(0)}s] ${line}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no free port");
  return address.port;
}

function run(step: ProductionStep, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const command = PRODUCTION_STEPS[step];
  say(`${step}: ${command}`);
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { cwd, env, stdio: "inherit" });
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${step} (${command}) failed with exit ${code}`))));
  });
}

/** The environment of the steps: the caller's, minus anything that would make this copy a dev or test setup. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  for (const key of Object.keys(env)) if (key.startsWith("GENSTREAM_TEST") || key === "NODE_ENV" || key === "INNGEST_DEV") delete env[key];
  return env;
}

async function expectOk(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Polls the readiness endpoint (a handshake: each answer says whether the app is up) until a bounded deadline. */
async function waitForHealth(baseUrl: string, app: ChildProcess): Promise<void> {
  const deadline = Date.now() + HEALTH_DEADLINE_MS;
  let attempt = 0;
  for (;;) {
    if (app.exitCode !== null) throw new Error(`npm start exited (${app.exitCode}) before /api/health answered`);
    const res = await fetch(`${baseUrl}/api/health`).catch(() => null);
    if (res?.ok) return;
    if (Date.now() > deadline)
      throw new Error(`/api/health did not answer 200 within ${HEALTH_DEADLINE_MS / 1000} s (last: ${res?.status ?? "no answer"})`);
    // Backoff between polls, capped at 1 s.
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * 2 ** attempt++)));
  }
}

async function trpc(baseUrl: string, procedure: string, input: unknown, cookie: string): Promise<unknown> {
  const res = await fetch(`${baseUrl}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: baseUrl },
    body: JSON.stringify({ json: input }),
  });
  return (JSON.parse(await expectOk(res, procedure)) as { result?: { data?: { json?: unknown } } }).result?.data?.json;
}

/** One generation end to end, as a browser does it: sign up, project, stream to `ready`, send, `run.completed`. */
async function generateOnce(baseUrl: string): Promise<string> {
  const signUp = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ email: `deploy-${randomUUID()}@example.test`, password: "correct horse battery staple", name: "Deploy check" }),
  });
  await expectOk(signUp, "sign-up");
  const cookie = signUp.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  say("signed up");
  const project = (await trpc(baseUrl, "project.create", { name: "Deploy check" }, cookie)) as { id?: unknown };
  if (typeof project.id !== "string") throw new Error(`project.create returned no id: ${JSON.stringify(project)}`);
  let messageId: string | null = null;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no run.completed within ${RUN_DEADLINE_MS / 1000} s`)), RUN_DEADLINE_MS);
  try {
    const stream = await fetch(`${baseUrl}/api/projects/${project.id}/events?cursor=0`, {
      headers: { cookie, accept: "text/event-stream" },
      signal: abort.signal,
    });
    if (!stream.ok || !stream.body) throw new Error(`stream answered ${stream.status}`);
    for await (const frame of parseSseStream(Readable.fromWeb(stream.body as NodeReadableStream<Uint8Array>))) {
      if (frame.event === "ready") {
        const { connectionId } = JSON.parse(frame.data) as { connectionId: string };
        say(`stream ready (${connectionId}); sending a message`);
        const sent = (await trpc(
          baseUrl,
          "message.send",
          { projectId: project.id, content: "A shop API with items (name)", connectionId },
          cookie,
        )) as {
          id?: unknown;
        };
        if (typeof sent.id !== "string") throw new Error(`message.send returned no id: ${JSON.stringify(sent)}`);
        messageId = sent.id;
      } else if (frame.event === "run.completed") {
        say("run.completed");
        if (!messageId) throw new Error("run.completed arrived before message.send answered");
        return messageId;
      } else if (frame.event === "run.failed" || frame.event === "run.cancelled" || frame.event === "error") {
        throw new Error(`${frame.event}: ${frame.data.slice(0, 500)}`);
      }
    }
    throw new Error("the stream ended before run.completed");
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function stop(app: ChildProcess): Promise<void> {
  if (app.exitCode !== null || app.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    app.once("exit", () => resolve());
    // npm start runs npm -> sh -> concurrently -> two node processes: signal the whole group it leads.
    process.kill(-app.pid!, "SIGTERM");
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "genstream-production-"));
  const env = baseEnv();
  const engineSchema = `genstream_engine_deploy_${randomBytes(6).toString("hex")}`;
  let app: ChildProcess | null = null;
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    execFileSync("sh", ["-c", `git archive HEAD | tar -x -C "${dir}"`]);
    say(`clean copy of ${commit} in ${dir}`);
    await run("install", dir, env);
    await run("build", dir, env);
    await run("prune", dir, env);

    const [port, executorPort] = [await freePort(), await freePort()];
    const secrets = {
      BETTER_AUTH_SECRET: randomBytes(33).toString("base64url"),
      INNGEST_SIGNING_KEY: `signkey-prod-${randomBytes(32).toString("hex")}`,
    };
    const settings = {
      ...secrets,
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      INNGEST_DEV: `http://127.0.0.1:${executorPort}`,
      GENSTREAM_EXECUTOR_PORT: String(executorPort),
      // The engine's store gets a schema of its own here: the default one (genstream_engine) in a
      // database kept between CI runs would hold an earlier deployment's events and resume its runs.
      ...(env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL, GENSTREAM_EXECUTOR_SCHEMA: engineSchema } : {}),
      ...(env.REDIS_URL ? { REDIS_URL: env.REDIS_URL } : {}),
    };
    writeFileSync(
      path.join(dir, ".env"),
      `${Object.entries(settings)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n")}\n`,
    );
    // The secrets and ports reach the app and the executor only through this file, as in a deployment
    // (DATABASE_URL / REDIS_URL, when the caller has them, are in both, with the same values).
    say(`wrote .env (${Object.keys(settings).join(", ")}); npm start reads its configuration from it`);
    say(
      `database: ${settings.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : "PGlite in .data/"}; event log: ${settings.REDIS_URL ? "Redis (REDIS_URL)" : "in-memory"}`,
    );
    say(`start: ${PRODUCTION_STEPS.start}`);
    const started: ChildProcess = spawn("sh", ["-c", PRODUCTION_STEPS.start], {
      cwd: dir,
      env,
      stdio: "inherit",
      detached: true,
    });
    app = started;
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(baseUrl, started);
    say("healthy");
    const messageId = await generateOnce(baseUrl);
    await checkDashboard(`http://127.0.0.1:${executorPort}`, secrets.INNGEST_SIGNING_KEY, messageId);
    await stop(started);
    app = null;
    say(`passed in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    if (app) await stop(app);
    if (env.DATABASE_URL) await dropSchemas(env.DATABASE_URL, [engineSchema]);
    if (keep) say(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The engine's dashboard after `npm prune --omit=dev`: its React bundle is the prebuilt one (no
 * bundler is left), and it and the REST API answer only to the signing key.
 */
async function checkDashboard(executorUrl: string, signingKey: string, messageId: string): Promise<void> {
  const bundle = await fetch(`${executorUrl}/dashboard/assets/app.js`);
  const js = await bundle.text();
  if (bundle.status !== 200 || js.length < 10_000)
    throw new Error(`dashboard bundle: ${bundle.status}, ${js.length} bytes: ${js.slice(0, 200)}`);
  const anonymous = await fetch(`${executorUrl}/dashboard/api/stream`);
  await anonymous.body?.cancel();
  if (anonymous.status !== 401) throw new Error(`dashboard stream without the signing key answered ${anonymous.status}, not 401`);
  const events = await fetch(`${executorUrl}/v1/events?name=api/iterate`, { headers: { authorization: `Bearer ${signingKey}` } });
  const body = (await events.json()) as { data?: { id?: unknown; name?: unknown }[] };
  // The event this deployment's message sent, by the id the app gives it (src/server/jobs.ts), once.
  const sent = body.data?.filter((event) => event.id === `iterate-${messageId}`);
  if (events.status !== 200 || sent?.length !== 1)
    throw new Error(
      `GET /v1/events answered ${events.status} without exactly one iterate-${messageId}: ${JSON.stringify(body).slice(0, 1_000)}`,
    );
  say("dashboard: prebuilt bundle served, stream and REST API behind the signing key");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[production-install] FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
