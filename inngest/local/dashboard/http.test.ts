import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunView } from "../types";
import { onlyRun, send, startHarness, type DefineFunctions, type Harness } from "../test-support";
import type { EventView, Snapshot } from "./protocol";

const define: DefineFunctions = (inngest) => [
  inngest.createFunction(
    {
      id: "echo",
      name: "Echo",
      triggers: [{ event: "t/echo" }],
      retries: 1,
      concurrency: [{ key: "event.data.k", limit: 2 }],
      idempotency: "event.data.key",
      cancelOn: [{ event: "t/stop", match: "data.k" }],
    },
    async ({ step, event }) => await step.run("echo", () => event.data),
  ),
];

/** Reads a dashboard stream's frames as they come. */
class FrameReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  async next(): Promise<{ type: string; data: unknown }> {
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        if (block.startsWith(":")) continue;
        const type = /^event: (.*)$/m.exec(block)?.[1] ?? "";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
        return { type, data: JSON.parse(data) as unknown };
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error("stream ended");
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next frame matching `match` (frames before it are skipped). */
  async until(match: (f: { type: string; data: unknown }) => boolean): Promise<{ type: string; data: unknown }> {
    for (;;) {
      const frame = await this.next();
      if (match(frame)) return frame;
    }
  }

  close(): Promise<void> {
    return this.reader.cancel();
  }
}

describe("the dashboard, open (no signing key, loopback)", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness(define, { dashboard: { on: true, auth: "none" } });
  });
  afterAll(async () => {
    await harness.close();
  });

  const url = (path: string) => `${harness.executor.url}${path}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(path), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  async function openStream(): Promise<FrameReader> {
    const res = await fetch(url("/dashboard/api/stream"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    if (!res.body) throw new Error("no body");
    return new FrameReader(res.body.getReader());
  }

  it("serves the shell under a strict CSP, the React bundle and the stylesheet; / leads to it", async () => {
    const shell = await fetch(url("/dashboard/runs/01JR0000000000000000000001"));
    expect(shell.status).toBe(200);
    expect(shell.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await shell.text()).toContain('<script type="module" src="/dashboard/assets/app.js">');
    const js = await fetch(url("/dashboard/assets/app.js"));
    expect(js.headers.get("content-type")).toContain("text/javascript");
    expect((await js.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(url("/dashboard/assets/app.css"))).headers.get("content-type")).toContain("text/css");
    const root = await fetch(url("/"), { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/dashboard");
  });

  it("streams a snapshot, then the events and runs as they happen", async () => {
    const before = await onlyRun(harness.executor, await send(harness.inngest, "t/echo", { k: "before" }));
    const stream = await openStream();
    const snapshot = (await stream.next()) as { type: string; data: Snapshot };
    expect(snapshot.type).toBe("snapshot");
    expect(snapshot.data.auth).toBe("none");
    expect(snapshot.data.runs.map((r) => r.runId)).toContain(before.runId);
    expect(snapshot.data.functions).toEqual([
      {
        id: "test-app-echo",
        name: "Echo",
        appId: "test-app",
        triggers: [{ event: "t/echo" }],
        concurrency: [{ limit: 2, scope: "fn", key: "event.data.k" }],
        retries: 1,
        idempotency: "event.data.key",
        cancelOn: [{ event: "t/stop", if: "event.data.k == async.data.k" }],
      },
    ]);
    expect(snapshot.data.health).toMatchObject({ synced: true, functions: 1 });

    const eventId = await send(harness.inngest, "t/echo", { k: "live" });
    const event = (await stream.until((f) => f.type === "event")) as { data: EventView };
    expect(event.data).toMatchObject({ internalId: eventId, name: "t/echo", data: { k: "live" } });
    const done = (await stream.until((f) => f.type === "run" && (f.data as RunView).status === "Completed")) as { data: RunView };
    expect(done.data).toMatchObject({
      eventId,
      output: { k: "live" },
      timeline: [expect.objectContaining({ name: "echo", status: "Completed" })],
    });
    await stream.close();
  });

  it("sends a test event, replays one under a new id, and reruns a run", async () => {
    const sent = await post("/dashboard/api/events", { event: { name: "t/echo", data: { k: "sent" } } });
    expect(sent.status).toBe(200);
    const [eventId = ""] = ((await sent.json()) as { ids: string[] }).ids;
    const first = await onlyRun(harness.executor, eventId);
    expect(first.output).toEqual({ k: "sent" });

    const replayed = await post(`/dashboard/api/events/${eventId}/replay`, {});
    const [copyId = ""] = ((await replayed.json()) as { ids: string[] }).ids;
    expect(copyId).not.toBe(eventId);
    expect(harness.executor.getEvent(copyId)?.event).toMatchObject({ name: "t/echo", data: { k: "sent" } });
    expect((await onlyRun(harness.executor, copyId)).output).toEqual({ k: "sent" });

    const rerun = await post(`/dashboard/api/runs/${first.runId}/rerun`, {});
    const { runId } = (await rerun.json()) as { runId: string };
    expect(runId).not.toBe(first.runId);
    expect(await harness.executor.waitForRun(runId)).toMatchObject({ status: "Completed", eventId, output: { k: "sent" } });
  });

  it("cannot read a run's progress events from an app without a signing key, and says so", async () => {
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/echo", { k: "progress" }));
    const res = await fetch(url(`/dashboard/api/runs/${run.runId}/progress`));
    expect(await res.json()).toMatchObject({ ok: false, reason: expect.stringContaining("INNGEST_SIGNING_KEY") });
    expect((await fetch(url("/dashboard/api/runs/01JR0000000000000000000001/progress"))).status).toBe(404);
    expect((await fetch(url("/dashboard/api/runs/nope/progress"))).status).toBe(400);
  });

  it("re-syncs on request", async () => {
    const res = await post("/dashboard/api/sync", {});
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { ok: true, functions: ["test-app-echo"] } });
  });

  it.each([
    ["/dashboard/api/events", { event: { data: {} } }, 400, "name"],
    ["/dashboard/api/events", { name: "t/echo" }, 400, "event"],
    ["/dashboard/api/events/01JE0000000000000000000001/replay", {}, 404, "no event"],
    ["/dashboard/api/runs/nope/cancel", {}, 400, "ULID"],
    ["/dashboard/api/runs/01JR0000000000000000000001/cancel", {}, 404, "no run"],
    ["/dashboard/api/runs/01JR0000000000000000000001/rerun", {}, 404, "no run"],
    ["/dashboard/api/nothing", {}, 404, "no route"],
  ])("POST %s %j answers %i naming the problem", async (path, body, status, words) => {
    const res = await post(path, body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toContain(words);
  });

  it("answers 409 to a cancel of a run that has ended", async () => {
    const run = await onlyRun(harness.executor, await send(harness.inngest, "t/echo", { k: "ended" }));
    const res = await post(`/dashboard/api/runs/${run.runId}/cancel`, {});
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toContain("already ended (Completed)");
  });

  it("refuses actions that are not JSON from this origin, and hosts that are not loopback names", async () => {
    const plain = await fetch(url("/dashboard/api/events"), { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(plain.status).toBe(403);
    expect(((await plain.json()) as { error: string }).error).toContain("JSON");
    const crossSite = await post("/dashboard/api/sync", {}, { origin: "http://evil.test" });
    expect(crossSite.status).toBe(403);
    // fetch() will not send another Host; a DNS-rebinding page's request does.
    const rebound = await new Promise<number>((resolve, reject) => {
      const target = new URL(url("/dashboard/api/session"));
      request({ host: target.hostname, port: target.port, path: target.pathname, headers: { host: "rebind.evil.test" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });
    expect(rebound).toBe(403);
  });
});

describe("the dashboard behind the signing key", () => {
  const KEY = "signkey-test-ffeeddccbbaa99887766554433221100";
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness(define, { signingKey: KEY, dashboard: { on: true, auth: "signing-key" }, waitForSync: false });
  });
  afterAll(async () => {
    await harness.close();
  });

  const url = (path: string) => `${harness.executor.url}${path}`;
  const signIn = (key: string) =>
    fetch(url("/dashboard/api/sign-in"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key }),
    });

  it("serves the shell, but its API only after a sign-in with the key (or the key as bearer)", async () => {
    expect((await fetch(url("/dashboard"))).status).toBe(200);
    expect(await (await fetch(url("/dashboard/api/session"))).json()).toEqual({ auth: "signing-key", signedIn: false });
    expect((await fetch(url("/dashboard/api/stream"))).status).toBe(401);

    const wrong = await signIn("signkey-test-wrong");
    expect(wrong.status).toBe(401);
    expect((await signIn("")).status).toBe(400);

    const right = await signIn(KEY);
    expect(right.status).toBe(200);
    const cookie = (right.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(await (await fetch(url("/dashboard/api/session"), { headers: { cookie } })).json()).toEqual({
      auth: "signing-key",
      signedIn: true,
    });
    const stream = await fetch(url("/dashboard/api/stream"), { headers: { cookie } });
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
    const bearer = await fetch(url("/dashboard/api/stream"), { headers: { authorization: `Bearer ${KEY}` } });
    expect(bearer.status).toBe(200);
    await bearer.body?.cancel();
  });
});

describe("the dashboard off", () => {
  it("answers 404 with the reason", async () => {
    const harness = await startHarness(define, { dashboard: { on: false, reason: "GENSTREAM_DASHBOARD=off" }, waitForSync: false });
    try {
      const res = await fetch(`${harness.executor.url}/dashboard`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBe("dashboard off: GENSTREAM_DASHBOARD=off");
    } finally {
      await harness.close();
    }
  });
});
