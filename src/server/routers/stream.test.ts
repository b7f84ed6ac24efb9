/**
 * The multiplexed stream through the app's real pieces: sessions (Better Auth), the request
 * listener's `GET /api/stream`, the `stream` router's mutations behind projectProcedure, the
 * per-user stream budget, and `message.send` accepting a subscribed connection.
 */
import { once } from "node:events";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject } from "../../db/queries/projects";
import { errorFrameSchema, subscriptionReadyFrameSchema } from "../../streaming/protocol";
import { StreamClient } from "../../streaming/test-harness";
import { openAppFixture, type AppFixture } from "../../test/app-fixture";
import { signUpTestUser, type TestAccount } from "../../test/auth";
import { testDatabaseTargets } from "../../test/databases";
import { limitMessages } from "../limits";
import type { createCaller } from "../root";

const MAX_STREAMS = 3;

async function errorOf(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

describe.each(testDatabaseTargets())("the stream router against $name", ({ target }) => {
  let app: AppFixture;
  let owner: TestAccount;
  let other: TestAccount;
  let asOwner: ReturnType<typeof createCaller>;
  let asOther: ReturnType<typeof createCaller>;

  beforeAll(async () => {
    app = await openAppFixture(target, { maxStreamsPerUser: MAX_STREAMS });
    owner = await signUpTestUser(app.auth, "owner");
    other = await signUpTestUser(app.auth, "other");
    asOwner = await app.caller(owner.headers);
    asOther = await app.caller(other.headers);
  });

  afterAll(async () => {
    await app.close();
  });

  function readyOf(client: StreamClient, projectId: string) {
    return client.waitFor((f) => f.event === "ready" && f.data.includes(`"projectId":"${projectId}"`), `ready ${projectId}`);
  }

  it("GET /api/stream: no session → an UNAUTHORIZED error frame, then the end; a session → connected", async () => {
    for (const headers of [{}, { cookie: "better-auth.session_token=forged.value" }]) {
      const refused = await StreamClient.open(app.muxUrl(), headers);
      const frame = errorFrameSchema.parse(JSON.parse((await refused.waitForEvent("error")).data));
      await refused.ended;
      expect(refused.status).toBe(200);
      expect(frame.code).toBe("UNAUTHORIZED");
    }
    const { client } = await app.connectMux(owner.cookie);
    expect(client.res.headers["x-content-type-options"]).toBe("nosniff");
    expect(client.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    client.close();
    await client.ended;
  });

  it("subscribe replays after the cursor and confirms with ready; message.send then accepts the connection, and refuses it once unsubscribed", async () => {
    const project = await createProject(app.handle.db, owner.userId, "Mux");
    const notSubscribed = await createProject(app.handle.db, owner.userId, "Elsewhere");
    const cursor = await app.streaming.head(project.id);
    const logged = await app.streaming.publish(project.id, "k1", {
      type: "step.progress",
      projectId: project.id,
      runId: "run-1",
      messageId: "m-1",
      at: 1,
      step: "plan",
      message: "planning",
    });
    const { client, connectionId } = await app.connectMux(owner.cookie);

    const answer = await asOwner.stream.subscribe({ connectionId, projectId: project.id, cursor, subscriptionId: "s1" });
    expect(answer).toEqual({ projectId: project.id, cursor: logged?.id, reset: false, replayed: 1 });
    const ready = subscriptionReadyFrameSchema.parse(JSON.parse((await readyOf(client, project.id)).data));
    expect(ready).toEqual({ projectId: project.id, cursor: logged?.id, subscriptionId: "s1" });
    expect(client.frames.map((f) => f.event)).toEqual(["connected", "step.progress", "ready"]);

    const sent = await asOwner.message.send({ projectId: project.id, content: "A shop API with items (name)", connectionId });
    expect(sent).toMatchObject({ role: "user", dispatch: "dispatched" });
    expect(app.jobs.iterations).toContainEqual({ projectId: project.id, messageId: sent.id });

    const refused = await errorOf(
      asOwner.message.send({ projectId: notSubscribed.id, content: "A shop API with items (name)", connectionId }),
    );
    expect(refused.code).toBe("PRECONDITION_FAILED");
    expect(refused.message).toBe("The live stream for this project is not connected yet. Wait for it to reconnect, then send again.");

    expect(await asOwner.stream.unsubscribe({ connectionId, projectId: project.id })).toEqual({ projectId: project.id, subscribed: true });
    expect((await errorOf(asOwner.message.send({ projectId: project.id, content: "Again", connectionId }))).code).toBe(
      "PRECONDITION_FAILED",
    );
    expect(await asOwner.stream.unsubscribe({ connectionId, projectId: project.id })).toEqual({ projectId: project.id, subscribed: false });
    expect((await asOwner.message.list({ projectId: notSubscribed.id })).length).toBe(0);
    client.close();
    await client.ended;
  });

  it("another user's project cannot be subscribed on your connection, nor your project on theirs", async () => {
    const mine = await createProject(app.handle.db, owner.userId, "Mine");
    const theirs = await createProject(app.handle.db, other.userId, "Theirs");
    const { client, connectionId } = await app.connectMux(owner.cookie);
    const foreignProject = await errorOf(asOwner.stream.subscribe({ connectionId, projectId: theirs.id }));
    expect(foreignProject).toMatchObject({ code: "FORBIDDEN", message: "You do not have access to this project." });

    // Their own project, on my connection: the connection is not theirs.
    const foreignConnection = await errorOf(asOther.stream.subscribe({ connectionId, projectId: theirs.id }));
    expect(foreignConnection).toMatchObject({ code: "PRECONDITION_FAILED", message: "This stream connection belongs to another user." });
    expect((await errorOf(asOther.stream.unsubscribe({ connectionId, projectId: theirs.id }))).code).toBe("PRECONDITION_FAILED");
    expect((await errorOf(asOwner.stream.unsubscribe({ connectionId, projectId: theirs.id }))).code).toBe("FORBIDDEN");
    // And their send cannot lean on my connection either.
    expect((await errorOf(asOther.message.send({ projectId: theirs.id, content: "hi", connectionId }))).code).toBe("PRECONDITION_FAILED");
    expect(app.streaming.stats().subscriptions).toBe(0);

    await asOwner.stream.subscribe({ connectionId, projectId: mine.id });
    await readyOf(client, mine.id);
    client.close();
    await client.ended;
  });

  it("an unknown or closed connection is PRECONDITION_FAILED, saying to open the stream again", async () => {
    const project = await createProject(app.handle.db, owner.userId, "Gone");
    const unknown = crypto.randomUUID();
    const error = await errorOf(asOwner.stream.subscribe({ connectionId: unknown, projectId: project.id }));
    expect(error).toMatchObject({
      code: "PRECONDITION_FAILED",
      message: `Stream connection ${unknown} is not open: open the stream again and subscribe with the id of its connected event.`,
    });
    const { client, connectionId } = await app.connectMux(owner.cookie);
    const released = once(app.slots, "release");
    client.close();
    await released;
    expect((await errorOf(asOwner.stream.subscribe({ connectionId, projectId: project.id }))).code).toBe("PRECONDITION_FAILED");
    expect((await errorOf(asOwner.stream.unsubscribe({ connectionId, projectId: project.id }))).code).toBe("PRECONDITION_FAILED");
  });

  it("a cursor the log cannot resume: the answer and the stream say reset, with the head to continue from", async () => {
    const project = await createProject(app.handle.db, owner.userId, "Stale");
    const { client, connectionId } = await app.connectMux(owner.cookie);
    const head = await app.streaming.head(project.id);
    expect(await asOwner.stream.subscribe({ connectionId, projectId: project.id, cursor: "someotherepoch:12" })).toEqual({
      projectId: project.id,
      cursor: head,
      reset: true,
      replayed: 0,
    });
    await readyOf(client, project.id);
    expect(client.frames.map((f) => f.event)).toEqual(["connected", "reset", "ready"]);
    expect(JSON.parse(client.frames[1]?.data ?? "")).toEqual({ projectId: project.id, reason: "unknown-log", cursor: head });
    client.close();
    await client.ended;
  });

  it(`every zod input error is a BAD_REQUEST with field errors, and registers nothing`, async () => {
    const project = await createProject(app.handle.db, owner.userId, "Inputs");
    const { client, connectionId } = await app.connectMux(owner.cookie);
    const bad: unknown[] = [
      { connectionId: "not-a-uuid", projectId: project.id },
      { projectId: project.id },
      { connectionId, projectId: "../etc" },
      { connectionId },
      { connectionId, projectId: project.id, cursor: "no-colon" },
      { connectionId, projectId: project.id, cursor: `${"e".repeat(65)}:1` },
      { connectionId, projectId: project.id, cursor: 42 },
      { connectionId, projectId: project.id, subscriptionId: "" },
      { connectionId, projectId: project.id, subscriptionId: "a b" },
      { connectionId, projectId: project.id, subscriptionId: "s".repeat(65) },
      "string input",
    ];
    const subscribe = asOwner.stream.subscribe as (input: unknown) => Promise<unknown>;
    const unsubscribe = asOwner.stream.unsubscribe as (input: unknown) => Promise<unknown>;
    for (const input of bad) {
      const error = await errorOf(subscribe(input));
      expect(error.code, JSON.stringify(input)).toBe("BAD_REQUEST");
    }
    for (const input of [{ connectionId: "nope", projectId: project.id }, { projectId: project.id }, { connectionId }]) {
      expect((await errorOf(unsubscribe(input))).code, JSON.stringify(input)).toBe("BAD_REQUEST");
    }
    const cursorError = await errorOf(subscribe({ connectionId, projectId: project.id, cursor: "no-colon" }));
    expect(cursorError.message).toContain("malformed cursor");
    const subscriptionIdError = await errorOf(subscribe({ connectionId, projectId: project.id, subscriptionId: "a b" }));
    expect(subscriptionIdError.message).toContain("subscriptionId must be 1-64 letters, digits, _ or -");
    const idError = await errorOf(subscribe({ connectionId: "x", projectId: project.id }));
    expect(idError.message).toContain("connectionId must be the id from the stream's ready or connected event");
    expect(app.streaming.stats().subscriptions).toBe(0);
    client.close();
    await client.ended;
  });

  it(`the connection and each subscription take a slot of the user's ${MAX_STREAMS} streams: over it, TOO_MANY_REQUESTS naming the limit; an unsubscribe frees one`, async () => {
    const limited = await signUpTestUser(app.auth, "limited");
    const caller = await app.caller(limited.headers);
    const projects = await Promise.all([1, 2, 3].map((n) => createProject(app.handle.db, limited.userId, `P${n}`)));
    const [p1, p2, p3] = projects.map((p) => p.id) as [string, string, string];
    const { client, connectionId } = await app.connectMux(limited.cookie);
    await caller.stream.subscribe({ connectionId, projectId: p1 });
    await caller.stream.subscribe({ connectionId, projectId: p2 });
    const over = await errorOf(caller.stream.subscribe({ connectionId, projectId: p3 }));
    expect(over).toMatchObject({ code: "TOO_MANY_REQUESTS", message: limitMessages.tooManyStreams(MAX_STREAMS) });
    // A second connection is over the budget too: an error frame naming the limit.
    const refused = await StreamClient.open(app.muxUrl(), { cookie: limited.cookie });
    expect(errorFrameSchema.parse(JSON.parse((await refused.waitForEvent("error")).data))).toEqual({
      code: "FORBIDDEN",
      message: limitMessages.tooManyStreams(MAX_STREAMS),
    });
    await refused.ended;
    // Re-subscribing a project already subscribed gives its slot back first: still within budget.
    await caller.stream.subscribe({ connectionId, projectId: p2 });
    await caller.stream.unsubscribe({ connectionId, projectId: p1 });
    await caller.stream.subscribe({ connectionId, projectId: p3 });
    await readyOf(client, p3);
    // Other users are not affected.
    const { client: theirs } = await app.connectMux(other.cookie);
    // Closing the connection gives back its slot and its subscriptions'.
    const freed = once(app.slots, "release");
    client.close();
    await freed;
    const again = await app.connectMux(limited.cookie);
    await caller.stream.subscribe({ connectionId: again.connectionId, projectId: p1 });
    await caller.stream.subscribe({ connectionId: again.connectionId, projectId: p2 });
    for (const c of [theirs, again.client]) c.close();
  });
});
