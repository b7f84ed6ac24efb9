/**
 * The signed path: a real app served by `serve` from inngest/node with its client in cloud
 * (production) mode, which verifies `x-inngest-signature` on every call, driven by the embedded
 * executor holding the same signing key.
 */
import type { Inngest } from "inngest";
import { afterEach, describe, expect, it } from "vitest";
import { LocalExecutor } from "./local/executor";
import { hmacHex, signRequest } from "./local/signing";
import { requestInBandSync } from "./local/sync";
import { AppServer, cloudTestClient, fastBackoff, nextEvent, onlyRun, send, startHarness, type Harness } from "./local/test-support";

const KEY = `signkey-test-${"3c".repeat(32)}`;
const WRONG_KEY = `signkey-test-${"d4".repeat(32)}`;
const MULTI = "test-app-multi";

let harness: Harness | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** How often each step (and the handler) ran inside the app. */
const hits = { handler: 0, a: 0, b: 0, c: 0, d: 0 };
function resetHits(): void {
  for (const key of Object.keys(hits) as (keyof typeof hits)[]) hits[key] = 0;
}

function multiStep(inngest: Inngest) {
  return [
    inngest.createFunction({ id: "multi", triggers: [{ event: "t/multi" }] }, async ({ event, step }) => {
      hits.handler++;
      const a = await step.run("a", () => {
        hits.a++;
        return Number(event.data.n) + 1;
      });
      const [b, c] = await Promise.all([
        step.run("b", () => {
          hits.b++;
          return a * 2;
        }),
        step.run("c", () => {
          hits.c++;
          return a * 3;
        }),
      ]);
      const d = await step.run("d", () => {
        hits.d++;
        return b + c;
      });
      return { a, b, c, d };
    }),
  ];
}

const cloudApp = (signingKey: string) => (executorUrl: string) => cloudTestClient(executorUrl, signingKey);

/** A raw POST to the app, optionally with a signature header. */
async function post(url: string, bodyText: string, signature?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== undefined) headers["x-inngest-signature"] = signature;
  const res = await fetch(url, { method: "POST", headers, body: bodyText });
  return { status: res.status, text: await res.text() };
}

/** A discovery call as the executor would make it. */
function discoveryBody(n: number): Record<string, unknown> {
  const event = { name: "t/multi", data: { n }, id: "raw-1", ts: Date.now() };
  return {
    event,
    events: [event],
    steps: {},
    ctx: {
      run_id: "01RAWRUN",
      attempt: 0,
      max_attempts: 1,
      disable_immediate_execution: true,
      use_api: false,
      stack: { stack: [], current: 0 },
    },
    version: 2,
  };
}

describe("signed requests to an app in production mode", () => {
  it("syncs and completes a multi-step run with the app's signing key", async () => {
    resetHits();
    harness = await startHarness(multiStep, { signingKey: KEY, client: cloudApp(KEY) });
    const { executor, inngest } = harness;
    expect(executor.health()).toMatchObject({ signed: true, synced: true, appVerifiesSignatures: true, functions: 1, syncError: null });

    const run = await onlyRun(executor, await send(inngest, "t/multi", { n: 1 }));
    expect(run.status).toBe("Completed");
    expect(run.output).toEqual({ a: 2, b: 4, c: 6, d: 10 });
    expect(hits).toMatchObject({ a: 1, b: 1, c: 1, d: 1 });
    expect(run.timeline.map((s) => [s.name, s.status])).toEqual([
      ["a", "Completed"],
      ["b", "Completed"],
      ["c", "Completed"],
      ["d", "Completed"],
    ]);
  });

  it("with a wrong key: the app answers 401, the sync fails visibly and runs never execute", async () => {
    resetHits();
    harness = await startHarness(multiStep, { signingKey: WRONG_KEY, client: cloudApp(KEY), waitForSync: false });
    const { executor, app } = harness;
    await nextEvent(executor, "sync:failed", ({ error }) => error.includes("401"));
    const health = (await (await fetch(`${executor.url}/health`)).json()) as { synced: boolean; syncError: string | null };
    expect(health.synced).toBe(false);
    expect(health.syncError).toContain("HTTP 401");
    expect(health.syncError).toContain("is not the app's signing key");

    // Give the executor the functions another way (a correctly signed sync), so runs are tried.
    const sync = await requestInBandSync(app.url, 5_000, KEY);
    if (sync.kind !== "synced") throw new Error(`control sync failed: ${JSON.stringify(sync)}`);
    expect(sync.responseSigned).toBe(true);
    expect(executor.register(sync.appId, sync.functions).functions).toEqual([MULTI]);

    const [eventId] = executor.ingest([{ name: "t/multi", data: { n: 1 } }]);
    const run = await onlyRun(executor, eventId ?? "");
    expect(run.status).toBe("Failed");
    expect(run.error?.message).toContain("Unauthorized");
    expect(run.error?.message).toContain("is not the app's signing key");
    expect(hits).toEqual({ handler: 0, a: 0, b: 0, c: 0, d: 0 });
  });

  it("an unsigned executor is refused by a production app, with a hint", async () => {
    harness = await startHarness(multiStep, { client: cloudApp(KEY), waitForSync: false });
    const [{ error }] = await nextEvent(harness.executor, "sync:failed", (e) => e.error.includes("401"));
    expect(error).toContain("give the executor the app's INNGEST_SIGNING_KEY");
    expect(harness.executor.health()).toMatchObject({ signed: false, synced: false, functions: 0 });
  });

  it("rejects a raw call with no signature, a stale one, an altered body or a non-canonical signing", async () => {
    resetHits();
    harness = await startHarness(multiStep, { signingKey: KEY, client: cloudApp(KEY) });
    const url = harness.executor.functionDef(MULTI)?.url;
    if (!url) throw new Error("multi not synced");
    const body = JSON.stringify(discoveryBody(1));

    // Control: the same call, correctly signed, is accepted and its answer signature verifies.
    const accepted = await post(url, body, signRequest(body, KEY));
    expect(accepted.status).toBe(206);
    expect(JSON.parse(accepted.text)).toEqual([expect.objectContaining({ op: "StepPlanned", name: "a" })]);
    const handlerRuns = hits.handler;

    const unauthorized = { status: 401, text: JSON.stringify({ message: "Unauthorized" }) };
    expect(await post(url, body)).toEqual(unauthorized);
    expect(await post(url, body, signRequest(body, WRONG_KEY))).toEqual(unauthorized);
    expect(await post(url, body, signRequest(body, KEY, Date.now() - 6 * 60_000))).toEqual(unauthorized);
    expect(await post(url, body, signRequest(body, KEY, Date.now() + 6 * 60_000))).toEqual(unauthorized);
    expect(await post(url, JSON.stringify(discoveryBody(2)), signRequest(body, KEY))).toEqual(unauthorized);
    expect(await post(url, body, "t=123")).toEqual(unauthorized);

    // The SDK signs the canonical form of the parsed body, not the bytes on the wire.
    const loose = JSON.stringify(discoveryBody(1), null, 2);
    const t = String(Math.floor(Date.now() / 1000));
    expect(await post(url, loose, `t=${t}&s=${hmacHex(loose, KEY, t)}`)).toEqual(unauthorized);
    expect((await post(url, loose, signRequest(loose, KEY))).status).toBe(206);

    expect(hits.handler).toBe(handlerRuns + 1);
    expect(hits.a).toBe(0);
  });

  it("a signed executor still drives an app in dev mode, which does not verify (and says so)", async () => {
    resetHits();
    harness = await startHarness(multiStep, { signingKey: KEY });
    expect(harness.executor.health()).toMatchObject({ signed: true, synced: true, appVerifiesSignatures: false });
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/multi", { n: 2 }));
    expect(run).toMatchObject({ status: "Completed", output: { a: 3, b: 6, c: 9, d: 15 } });
  });
});

describe("signed answers from the app", () => {
  async function fakeApp(
    answer: (method: string, body: string, now: number) => { status: number; body: string; signature?: string },
  ): Promise<AppServer> {
    const app = await AppServer.start();
    app.setHandler((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const out = answer(req.method ?? "", Buffer.concat(chunks).toString(), Date.now());
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (out.signature !== undefined) headers["x-inngest-signature"] = out.signature;
        res.writeHead(out.status, headers).end(out.body);
      });
    });
    cleanups.push(() => app.stop());
    return app;
  }

  const sign = (body: string, now: number, key = KEY): string => {
    const t = String(Math.round(now / 1000));
    return `t=${t}&s=${hmacHex(body, key, t)}`;
  };

  async function signedExecutor(app: AppServer): Promise<LocalExecutor> {
    const executor = new LocalExecutor({ appUrl: app.url, port: 0, backoff: fastBackoff, signingKey: KEY, syncOnStart: false });
    await executor.start();
    cleanups.push(() => executor.stop());
    return executor;
  }

  it("refuses a sync answer whose signature does not verify", async () => {
    const app = await fakeApp((_m, _b, now) => {
      const body = JSON.stringify({ app_id: "test-app", functions: [] });
      return { status: 200, body, signature: sign(body, now, WRONG_KEY) };
    });
    const result = await (await signedExecutor(app)).sync();
    expect(result.ok).toBe(false);
    expect(result.error).toContain("invalid signature: HMAC does not match");
  });

  it("fails a call whose answer was altered after signing, and accepts a well-signed one", async () => {
    let tamper = true;
    const app = await fakeApp((_m, _b, now) => {
      const body = JSON.stringify("done");
      return { status: 200, body: tamper ? JSON.stringify("DONE") : body, signature: sign(body, now) };
    });
    const executor = await signedExecutor(app);
    const fn = {
      id: "fake",
      name: "fake",
      triggers: [{ event: "t/fake" }],
      steps: {
        step: { id: "step", name: "step", runtime: { type: "http", url: `${app.url}?fnId=fake&stepId=step` }, retries: { attempts: 0 } },
      },
    };
    expect(executor.register("test-app", [fn]).functions).toEqual(["fake"]);

    const [bad] = executor.ingest([{ name: "t/fake", data: {} }]);
    expect(await onlyRun(executor, bad ?? "")).toMatchObject({
      status: "Failed",
      error: { message: expect.stringContaining("invalid signature") },
    });
    tamper = false;
    const [good] = executor.ingest([{ name: "t/fake", data: {} }]);
    expect(await onlyRun(executor, good ?? "")).toMatchObject({ status: "Completed", output: "done" });
  });
});
