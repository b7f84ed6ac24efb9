/**
 * Every limit of src/server/limits.ts: exceeding it gives its own clear error, and the user's other
 * work (and other users) carry on.
 */
import { once } from "node:events";
import http from "node:http";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { TRPCError } from "@trpc/server";
import superjson from "superjson";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "./root";
import { limitMessages, limits } from "./limits";
import { bodyLimitFor } from "./body-limit";
import { createProject } from "../db/queries/projects";
import { errorFrameSchema } from "../streaming/protocol";
import { StreamClient } from "../streaming/test-harness";
import { testDatabaseTargets } from "../test/databases";
import { openAppFixture, type AppFixture } from "../test/app-fixture";
import { signUpTestUser, type TestAccount } from "../test/auth";

async function errorOf(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

describe.each(testDatabaseTargets())("limits against $name", ({ target }) => {
  let app: AppFixture;

  beforeAll(async () => {
    app = await openAppFixture(target);
  });

  afterAll(async () => {
    await app.close();
  });

  async function account(label: string): Promise<{ user: TestAccount; caller: Awaited<ReturnType<AppFixture["caller"]>> }> {
    const user = await signUpTestUser(app.auth, label);
    return { user, caller: await app.caller(user.headers) };
  }

  it(`message length: more than ${limits.messageMaxChars} characters is a BAD_REQUEST naming the limit; the next message goes through`, async () => {
    const { user, caller } = await account("long");
    const project = await caller.project.create({ name: "Long" });
    const connectionId = await app.connect(project.id, user.cookie);
    const error = await errorOf(
      caller.message.send({ projectId: project.id, content: "x".repeat(limits.messageMaxChars + 1), connectionId }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toContain(limitMessages.messageTooLong());
    await expect(
      caller.message.send({ projectId: project.id, content: "x".repeat(limits.messageMaxChars), connectionId }),
    ).resolves.toMatchObject({ role: "user" });
  });

  it(`messages per minute: message ${limits.messagesPerMinute + 1} within a minute is TOO_MANY_REQUESTS over all the user's projects; reads, other users and the next minute carry on`, async () => {
    const { user, caller } = await account("chatty");
    const first = await caller.project.create({ name: "First" });
    const second = await caller.project.create({ name: "Second" });
    const firstConnection = await app.connect(first.id, user.cookie);
    const secondConnection = await app.connect(second.id, user.cookie);
    for (let i = 0; i < limits.messagesPerMinute; i++) {
      const [projectId, connectionId] = i % 2 === 0 ? [first.id, firstConnection] : [second.id, secondConnection];
      await caller.message.send({ projectId, content: `message ${i}`, connectionId });
    }
    for (const [projectId, connectionId] of [
      [first.id, firstConnection],
      [second.id, secondConnection],
    ] as const) {
      const error = await errorOf(caller.message.send({ projectId, content: "one too many", connectionId }));
      expect(error.code).toBe("TOO_MANY_REQUESTS");
      expect(error.message).toBe(limitMessages.tooManyMessages());
    }
    // Nothing of the refused sends was stored; everything else still works.
    expect(await caller.message.list({ projectId: first.id })).toHaveLength(limits.messagesPerMinute / 2);
    await expect(caller.project.create({ name: "Third" })).resolves.toMatchObject({ ownerId: user.userId });

    const { user: neighbour, caller: neighbourCaller } = await account("neighbour");
    const theirs = await neighbourCaller.project.create({ name: "Theirs" });
    await expect(
      neighbourCaller.message.send({
        projectId: theirs.id,
        content: "hello",
        connectionId: await app.connect(theirs.id, neighbour.cookie),
      }),
    ).resolves.toMatchObject({ role: "user" });

    // A minute later (the messages' clock moved back rather than waiting) the user may send again.
    await app.handle.db.execute(
      sql`update messages set created_at = created_at - interval '61 seconds' where project_id in (${first.id}, ${second.id})`,
    );
    await expect(caller.message.send({ projectId: first.id, content: "later", connectionId: firstConnection })).resolves.toMatchObject({
      role: "user",
    });
  });

  it(`projects per user: project ${limits.projectsPerUser + 1} is FORBIDDEN with the limit in the message; the user's projects and other users carry on`, async () => {
    const { user, caller } = await account("collector");
    const db = app.handle.db;
    for (let i = 1; i < limits.projectsPerUser; i++) await createProject(db, user.userId, `P${i}`);
    const last = await caller.project.create({ name: "The last one" });
    const error = await errorOf(caller.project.create({ name: "One too many" }));
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toBe(limitMessages.tooManyProjects());
    expect(await caller.project.list()).toHaveLength(limits.projectsPerUser);
    await expect(
      caller.message.send({ projectId: last.id, content: "still working", connectionId: await app.connect(last.id, user.cookie) }),
    ).resolves.toMatchObject({ role: "user" });
    const { caller: other } = await account("newcomer");
    await expect(other.project.create({ name: "Mine" })).resolves.toBeDefined();
  });

  it("messages per minute and projects per user hold under concurrent requests (no race past the limit)", async () => {
    const { user, caller } = await account("racer");
    const project = await caller.project.create({ name: "Race" });
    const connectionId = await app.connect(project.id, user.cookie);
    const extra = 5;
    const sends = await Promise.allSettled(
      Array.from({ length: limits.messagesPerMinute + extra }, (_, i) =>
        caller.message.send({ projectId: project.id, content: `racing ${i}`, connectionId }),
      ),
    );
    expect(sends.filter((r) => r.status === "fulfilled")).toHaveLength(limits.messagesPerMinute);
    const refusedSends = sends.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refusedSends.map((r) => (r.reason as TRPCError).code)).toEqual(Array(extra).fill("TOO_MANY_REQUESTS"));
    expect(await caller.message.list({ projectId: project.id })).toHaveLength(limits.messagesPerMinute);

    const db = app.handle.db;
    // The user owns one ("Race"); bring it to two short of the limit.
    for (let owned = 1; owned < limits.projectsPerUser - 2; owned++) await createProject(db, user.userId, `P${owned}`);
    const creates = await Promise.allSettled(Array.from({ length: 2 + extra }, (_, i) => caller.project.create({ name: `Racing ${i}` })));
    expect(creates.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(creates.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as TRPCError).code)).toEqual(
      Array(extra).fill("FORBIDDEN"),
    );
    expect(await caller.project.list()).toHaveLength(limits.projectsPerUser);
  });

  it(`concurrent streams per user: stream ${limits.concurrentStreamsPerUser + 1} gets an error frame naming the limit; closing one frees a slot; others carry on`, async () => {
    const { user, caller } = await account("tabby");
    const project = await caller.project.create({ name: "Tabs" });
    const open: StreamClient[] = [];
    for (let i = 0; i < limits.concurrentStreamsPerUser; i++) {
      const client = await StreamClient.open(app.streamUrl(project.id), { cookie: user.cookie });
      await client.waitForEvent("ready");
      open.push(client);
    }
    const refused = await StreamClient.open(app.streamUrl(project.id), { cookie: user.cookie });
    const frame = errorFrameSchema.parse(JSON.parse((await refused.waitForEvent("error")).data));
    await refused.ended;
    expect(frame).toEqual({ code: "FORBIDDEN", message: limitMessages.tooManyStreams() });

    // The open streams still work: a send through one of them is accepted.
    const ready = await open[0]!.waitForEvent("ready");
    const connectionId = (JSON.parse(ready.data) as { connectionId: string }).connectionId;
    await expect(caller.message.send({ projectId: project.id, content: "hello", connectionId })).resolves.toMatchObject({ role: "user" });

    // Another user is not affected.
    const { user: other, caller: otherCaller } = await account("other-tabs");
    const theirs = await otherCaller.project.create({ name: "Theirs" });
    await app.connect(theirs.id, other.cookie);

    // Closing a tab gives its slot back.
    const released = once(app.slots, "release");
    open.pop()!.close();
    expect(await released).toEqual([user.userId, limits.concurrentStreamsPerUser - 1]);
    const again = await StreamClient.open(app.streamUrl(project.id), { cookie: user.cookie });
    await again.waitForEvent("ready");
    for (const client of [...open, again]) client.close();
  });

  describe("request body size", () => {
    function post(path: string, headers: Record<string, string>, body: Buffer | null): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = http.request(`${app.baseUrl}${path}`, { method: "POST", headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        });
        // The server may answer and close before the whole body is sent; the answer is what counts.
        req.on("error", (err) => (req.destroyed ? undefined : reject(err)));
        if (body) req.end(body);
        else req.end();
      });
    }

    it(`a tRPC call over ${limits.requestBodyMaxBytes} bytes is refused (413, PAYLOAD_TOO_LARGE) before it is read, and the client shows the message`, async () => {
      const { user } = await account("paster");
      const before = await app.counts();
      const client = createTRPCClient<AppRouter>({
        links: [httpBatchLink({ url: `${app.baseUrl}/api/trpc`, transformer: superjson, headers: { cookie: user.cookie } })],
      });
      const error = await client.project.create.mutate({ name: "x".repeat(limits.requestBodyMaxBytes) }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TRPCClientError);
      const clientError = error as TRPCClientError<AppRouter>;
      expect(clientError.data?.code).toBe("PAYLOAD_TOO_LARGE");
      expect(clientError.data?.httpStatus).toBe(413);
      expect(clientError.message).toBe(limitMessages.bodyTooLarge(limits.requestBodyMaxBytes));
      expect(await app.counts()).toEqual(before);
      // The same user's next (reasonable) call goes through.
      await expect(client.project.create.mutate({ name: "Reasonable" })).resolves.toMatchObject({ ownerId: user.userId });
    });

    it("any /api path: an oversized body is 413 with a clear message; a body without Content-Length is 411", async () => {
      const big = Buffer.alloc(limits.requestBodyMaxBytes + 1, 0x61);
      const tooLarge = await post(
        "/api/auth/sign-up/email",
        { "content-type": "application/json", "content-length": String(big.length) },
        big,
      );
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.body)).toEqual({
        code: "PAYLOAD_TOO_LARGE",
        message: limitMessages.bodyTooLarge(limits.requestBodyMaxBytes),
      });
      const lying = await post(
        "/api/trpc/project.create",
        { "content-type": "application/json", "content-length": "99999999999999999999" },
        null,
      );
      // Node's own parser refuses a Content-Length it cannot represent (400); either way nothing is read.
      expect([400, 413]).toContain(lying.status);
      const chunked = await post(
        "/api/trpc/project.create",
        { "content-type": "application/json", "transfer-encoding": "chunked" },
        Buffer.from("{}"),
      );
      expect(chunked.status).toBe(411);
      expect(bodyLimitFor("/api/inngest")).toBe(limits.inngestRequestBodyMaxBytes);
    });
  });
});
