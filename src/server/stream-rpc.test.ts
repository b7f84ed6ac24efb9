/**
 * stream.subscribe / stream.unsubscribe served outside Next (src/server/stream-rpc.ts): over HTTP
 * through the real request listener, the answers (successes and refusals) are byte for byte those of
 * the fetch handler that stands in for Next's route, the session is required, and batched calls or
 * other procedures still go to the fallback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject } from "../db/queries/projects";
import { openAppFixture, type AppFixture } from "../test/app-fixture";
import { signUpTestUser, type TestAccount } from "../test/auth";
import { testDatabaseTargets } from "../test/databases";
import { matchStreamRpc } from "./stream-rpc";

async function call(app: AppFixture, path: string, input: unknown, cookie?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${app.baseUrl}/api/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: app.baseUrl, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ json: input }),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

/** Error bodies carry the server's stack only in development; compare what a client sees. */
function comparable(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body, (key, value: unknown) => (key === "stack" ? undefined : value))) as unknown;
}

describe("matchStreamRpc", () => {
  const url = (s: string) => new URL(s, "http://localhost");
  it("matches unbatched POSTs of the two stream procedures only", () => {
    expect(matchStreamRpc("POST", url("/api/trpc/stream.subscribe"))).toBe("stream.subscribe");
    expect(matchStreamRpc("POST", url("/api/trpc/stream.unsubscribe"))).toBe("stream.unsubscribe");
    expect(matchStreamRpc("GET", url("/api/trpc/stream.subscribe"))).toBeNull();
    expect(matchStreamRpc("POST", url("/api/trpc/stream.subscribe?batch=1"))).toBeNull();
    expect(matchStreamRpc("POST", url("/api/trpc/stream.subscribe,project.create"))).toBeNull();
    expect(matchStreamRpc("POST", url("/api/trpc/project.create"))).toBeNull();
    expect(matchStreamRpc("POST", url("/api/trpcx/stream.subscribe"))).toBeNull();
  });
});

describe.each(testDatabaseTargets())("stream.subscribe outside Next against $name", ({ target }) => {
  let fast: AppFixture;
  let viaNext: AppFixture;
  let owner: TestAccount;
  let other: TestAccount;
  let ownerNext: TestAccount;
  let otherNext: TestAccount;

  beforeAll(async () => {
    [fast, viaNext] = await Promise.all([openAppFixture(target), openAppFixture(target, { streamRpcViaNext: true })]);
    owner = await signUpTestUser(fast.auth, "owner");
    other = await signUpTestUser(fast.auth, "other");
    ownerNext = await signUpTestUser(viaNext.auth, "owner");
    otherNext = await signUpTestUser(viaNext.auth, "other");
  });

  afterAll(async () => {
    await Promise.all([fast?.close(), viaNext?.close()]);
  });

  it("subscribes (ready on the stream, then the mutation's answer) and unsubscribes, as the fallback answers them", async () => {
    type Reply = { status: number; body: unknown };
    const answers: Array<{ subscribed: Reply; unsubscribed: Reply; cursor: string; projectId: string }> = [];
    for (const [app, account] of [
      [fast, owner],
      [viaNext, ownerNext],
    ] as const) {
      const project = await createProject(app.handle.db, account.userId, "Fast");
      const { client, connectionId } = await app.connectMux(account.cookie);
      const ready = client.waitFor((f) => f.event === "ready" && f.data.includes(project.id), "ready");
      const subscribed = await call(app, "stream.subscribe", { connectionId, projectId: project.id }, account.cookie);
      await ready;
      expect(app.streaming.stats().subscriptions).toBe(1);
      const unsubscribed = await call(app, "stream.unsubscribe", { connectionId, projectId: project.id }, account.cookie);
      expect(app.streaming.stats().subscriptions).toBe(0);
      client.close();
      answers.push({ subscribed, unsubscribed, cursor: await app.streaming.head(project.id), projectId: project.id });
    }
    const [a, b] = answers;
    if (!a || !b) throw new Error("no answers");
    expect(a.subscribed.status).toBe(200);
    // The same envelope; only the ids differ.
    const normalise = (x: (typeof answers)[number]) =>
      JSON.parse(JSON.stringify({ s: x.subscribed, u: x.unsubscribed }).replaceAll(x.projectId, "P").replaceAll(x.cursor, "C")) as unknown;
    expect(normalise(a)).toEqual(normalise(b));
    expect(a.subscribed.body).toEqual({
      result: { data: { json: { projectId: a.projectId, cursor: a.cursor, reset: false, replayed: 0 } } },
    });
  });

  it("refuses without a session, another user's project or connection, and bad input, with the fallback's answers", async () => {
    const results: Array<Array<{ status: number; body: unknown }>> = [];
    for (const [app, account, stranger] of [
      [fast, owner, other],
      [viaNext, ownerNext, otherNext],
    ] as const) {
      const project = await createProject(app.handle.db, account.userId, "Mine");
      const { client, connectionId } = await app.connectMux(account.cookie);
      const theirs = await app.connectMux(stranger.cookie);
      const input = { connectionId, projectId: project.id };
      const out = [
        await call(app, "stream.subscribe", input),
        await call(app, "stream.subscribe", input, "better-auth.session_token=forged.value"),
        await call(app, "stream.subscribe", input, stranger.cookie),
        await call(app, "stream.subscribe", { connectionId: theirs.connectionId, projectId: project.id }, account.cookie),
        await call(app, "stream.subscribe", { connectionId: "nope", projectId: project.id }, account.cookie),
        await call(app, "stream.subscribe", { connectionId, projectId: "no-such-project" }, account.cookie),
        await call(app, "stream.unsubscribe", { connectionId, projectId: "not a valid id!" }, account.cookie),
      ].map((r) => ({
        status: r.status,
        body: JSON.parse(
          JSON.stringify(comparable(r.body)).replaceAll(project.id, "P").replaceAll(connectionId, "C").replaceAll(theirs.connectionId, "T"),
        ) as unknown,
      }));
      client.close();
      theirs.client.close();
      results.push(out);
    }
    const [a, b] = results;
    expect(a?.map((r) => r.status)).toEqual([401, 401, 403, 412, 400, 404, 400]);
    expect(a).toEqual(b);
    expect(fast.streaming.stats().subscriptions).toBe(0);
  });

  it("answers malformed bodies, other content types and the headers as the fallback does", async () => {
    const raw = async (app: AppFixture, body: string, type: string, cookie: string) => {
      const res = await fetch(`${app.baseUrl}/api/trpc/stream.subscribe`, {
        method: "POST",
        headers: { "content-type": type, origin: app.baseUrl, cookie },
        body,
      });
      return {
        status: res.status,
        type: res.headers.get("content-type"),
        vary: res.headers.get("vary"),
        body: comparable(JSON.parse(await res.text())),
      };
    };
    const cases: Array<[string, string]> = [
      ["{not json", "application/json"],
      ["", "application/json"],
      ['{"json":5}', "application/json"],
      ['{"json":{"connectionId":"x"}}', "application/json; charset=utf-8"],
      ['{"json":{}}', "text/plain"],
    ];
    for (const [body, type] of cases) {
      const a = await raw(fast, body, type, owner.cookie);
      const b = await raw(viaNext, body, type, ownerNext.cookie);
      expect(a, `${type} ${body}`).toEqual(b);
      expect(a.status).toBeGreaterThanOrEqual(400);
    }
  });

  it("leaves batched calls to the fallback", async () => {
    const project = await createProject(fast.handle.db, owner.userId, "Batched");
    const { client, connectionId } = await fast.connectMux(owner.cookie);
    const res = await fetch(`${fast.baseUrl}/api/trpc/stream.subscribe?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: fast.baseUrl, cookie: owner.cookie },
      body: JSON.stringify({ 0: { json: { connectionId, projectId: project.id } } }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Array<{ result?: unknown }>)[0]?.result).toBeDefined();
    client.close();
  });
});
