/**
 * Access control of every tRPC procedure and of the stream, generated from the router's own
 * procedure list (plus the stream endpoint): a procedure added without an entry in `accessCases`
 * fails this suite.
 * For each: no session → UNAUTHORIZED; another user's project → FORBIDDEN; the owner → works.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "./root";
import { errorFrameSchema } from "../streaming/protocol";
import { StreamClient } from "../streaming/test-harness";
import { matchMuxStreamPath, matchStreamPath } from "../streaming/route";
import { setDispatch, insertUserMessageWithinRate } from "../db/queries/messages";
import { ensureRun } from "../db/queries/runs";
import { saveArtifact } from "../db/queries/artifacts";
import { createProject } from "../db/queries/projects";
import type { Project } from "../db/schema";
import { testDatabaseTargets } from "../test/databases";
import { openAppFixture, type AppFixture } from "../test/app-fixture";
import { signUpTestUser, type TestAccount } from "../test/auth";

interface World {
  app: AppFixture;
  owner: TestAccount;
  other: TestAccount;
  /** The owner's project, which the other user must not reach. */
  project: Project;
}

interface AccessCase {
  /**
   * `project`: scoped to one project; another user gets FORBIDDEN.
   * `account`: works on the caller's own data; another user succeeds but sees nothing of the owner's.
   */
  scope: "project" | "account";
  /** The owner's valid input (creating what the call needs). */
  input(w: World): Promise<unknown>;
  /** `account` scope: the other user's answer must not reveal the owner's project. */
  isolated?(w: World, answer: unknown): void;
}

const accessCases: Record<string, AccessCase> = {
  "project.list": {
    scope: "account",
    input: async () => undefined,
    isolated: (w, answer) => expect(JSON.stringify(answer)).not.toContain(w.project.id),
  },
  "project.create": {
    scope: "account",
    input: async () => ({ name: "Access check" }),
    isolated: (w, answer) => expect(answer).toMatchObject({ ownerId: w.other.userId }),
  },
  "project.get": { scope: "project", input: async (w) => ({ projectId: w.project.id }) },
  "message.list": { scope: "project", input: async (w) => ({ projectId: w.project.id }) },
  "message.send": {
    scope: "project",
    input: async (w) => ({
      projectId: w.project.id,
      content: "A shop API with items (name)",
      connectionId: await w.app.connect(w.project.id, w.owner.cookie),
    }),
  },
  "message.retry": {
    scope: "project",
    input: async (w) => {
      const message = await insertUserMessageWithinRate(w.app.handle.db, {
        ownerId: w.owner.userId,
        projectId: w.project.id,
        content: "A shop API with items (name)",
        perMinute: 1_000,
      });
      if (!message) throw new Error("message not stored");
      await setDispatch(w.app.handle.db, message.id, "failed");
      return { projectId: w.project.id, messageId: message.id, connectionId: await w.app.connect(w.project.id, w.owner.cookie) };
    },
  },
  "stream.subscribe": {
    scope: "project",
    input: async (w) => ({ connectionId: (await w.app.connectMux(w.owner.cookie)).connectionId, projectId: w.project.id }),
  },
  "stream.unsubscribe": {
    scope: "project",
    input: async (w) => ({ connectionId: (await w.app.connectMux(w.owner.cookie)).connectionId, projectId: w.project.id }),
  },
  "generation.artifact": {
    scope: "project",
    input: async (w) => {
      const artifact = await saveArtifact(w.app.handle.db, {
        projectId: w.project.id,
        runId: `run-${crypto.randomUUID()}`,
        messageId: "m",
        plan: {},
        openapi: "{}",
        files: [],
      });
      return { projectId: w.project.id, version: artifact.version };
    },
  },
  "generation.cancel": {
    scope: "project",
    input: async (w) => {
      const message = await insertUserMessageWithinRate(w.app.handle.db, {
        ownerId: w.owner.userId,
        projectId: w.project.id,
        content: "A shop API with items (name)",
        perMinute: 1_000,
      });
      if (!message) throw new Error("message not stored");
      const runId = `run-${crypto.randomUUID()}`;
      await ensureRun(w.app.handle.db, { runId, projectId: w.project.id, messageId: message.id, startedAt: new Date() });
      return { projectId: w.project.id, runId };
    },
  },
};

const procedurePaths = Object.keys(appRouter._def.procedures).sort();

/**
 * The endpoints outside tRPC, checked in the same table: the streams (served by node:http,
 * src/streaming/route.ts). `matchStreamPath` and `matchMuxStreamPath` are the only routes the
 * request listener serves itself. The multiplexed stream names no project: it needs a session
 * only (its subscriptions are the `stream.*` procedures above).
 */
const STREAM = "GET /api/projects/:projectId/events";
const MUX_STREAM = "GET /api/stream";
const endpoints = [...procedurePaths, STREAM, MUX_STREAM];

/** The caller's procedure at a dotted path, e.g. `message.send`. */
function procedureAt(caller: unknown, path: string): (input: unknown) => Promise<unknown> {
  let node: unknown = caller;
  for (const key of path.split(".")) node = (node as Record<string, unknown>)[key];
  if (typeof node !== "function") throw new Error(`no procedure at ${path}`);
  return node as (input: unknown) => Promise<unknown>;
}

async function errorOf(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

it("every procedure of the router has an access case (and no case names a procedure that is gone)", () => {
  expect(procedurePaths.length).toBeGreaterThan(0);
  expect(Object.keys(accessCases).sort()).toEqual(procedurePaths);
  expect(matchStreamPath("/api/projects/abc/events")).toEqual({ projectId: "abc" });
  expect(matchMuxStreamPath("/api/stream")).toBe(true);
});

describe.each(testDatabaseTargets())("access control against $name", ({ target }) => {
  let world: World;
  const noSession = new Headers();

  beforeAll(async () => {
    const app = await openAppFixture(target);
    const owner = await signUpTestUser(app.auth, "owner");
    const other = await signUpTestUser(app.auth, "other");
    const project = await createProject(app.handle.db, owner.userId, "Owned");
    world = { app, owner, other, project };
  });

  afterAll(async () => {
    await world.app.close();
  });

  /** The stream's answer: the error frame's code (after which it must have ended), or "ready". */
  async function streamAnswer(projectId: string, cookie: string | null): Promise<string> {
    const client = await StreamClient.open(world.app.streamUrl(projectId), cookie ? { cookie } : {});
    const frame = await client.waitFor((f) => f.event === "ready" || f.event === "error", "ready or error");
    if (frame.event === "ready") {
      client.close();
      await client.ended;
      return "ready";
    }
    await client.ended;
    expect(client.sequence()).toEqual(["error"]);
    return errorFrameSchema.parse(JSON.parse(frame.data)).code;
  }

  /** The multiplexed stream's answer: the error frame's code (after which it must have ended), or "connected". */
  async function muxAnswer(cookie: string | null): Promise<string> {
    const client = await StreamClient.open(world.app.muxUrl(), cookie ? { cookie } : {});
    const frame = await client.waitFor((f) => f.event === "connected" || f.event === "error", "connected or error");
    if (frame.event === "connected") {
      client.close();
      await client.ended;
      return "connected";
    }
    await client.ended;
    expect(client.sequence()).toEqual(["error"]);
    return errorFrameSchema.parse(JSON.parse(frame.data)).code;
  }

  it.each(endpoints)("%s: no session → UNAUTHORIZED, another user → FORBIDDEN, the owner → works", async (path) => {
    if (path === MUX_STREAM) {
      const before = await world.app.counts();
      expect(await muxAnswer(null)).toBe("UNAUTHORIZED");
      expect(await muxAnswer("better-auth.session_token=forged.value")).toBe("UNAUTHORIZED");
      expect(await world.app.counts()).toEqual(before);
      expect(await muxAnswer(world.other.cookie)).toBe("connected");
      expect(await muxAnswer(world.owner.cookie)).toBe("connected");
      return;
    }
    if (path === STREAM) {
      const { app, project, owner, other } = world;
      const before = await app.counts();
      expect(await streamAnswer(project.id, null)).toBe("UNAUTHORIZED");
      expect(await streamAnswer(project.id, "better-auth.session_token=forged.value")).toBe("UNAUTHORIZED");
      expect(await streamAnswer(project.id, other.cookie)).toBe("FORBIDDEN");
      expect(await app.counts()).toEqual(before);
      expect(await streamAnswer(project.id, owner.cookie)).toBe("ready");
      return;
    }
    const access = accessCases[path];
    if (!access) throw new Error(`no access case for procedure ${path}: add one to accessCases`);
    const { app, owner, other } = world;
    const input = await access.input(world);
    const before = await app.counts();

    // No session (and a forged cookie): refused before the input is even looked at.
    for (const headers of [noSession, new Headers({ cookie: "better-auth.session_token=forged.value" })]) {
      const call = procedureAt(await app.caller(headers), path);
      expect((await errorOf(call(input))).code).toBe("UNAUTHORIZED");
      expect((await errorOf(call({ junk: true }))).code).toBe("UNAUTHORIZED");
    }
    expect(await app.counts()).toEqual(before);

    const asOther = procedureAt(await app.caller(other.headers), path);
    if (access.scope === "project") {
      const error = await errorOf(asOther(input));
      expect(error.code).toBe("FORBIDDEN");
      expect(error.message).toContain("do not have access");
      expect(await app.counts()).toEqual(before);
    } else {
      access.isolated?.(world, await asOther(input));
    }

    await expect(procedureAt(await app.caller(owner.headers), path)(input)).resolves.toBeDefined();
  });

  it("an unknown project is NOT_FOUND for its would-be owner too", async () => {
    const call = procedureAt(await world.app.caller(world.owner.headers), "project.get");
    expect((await errorOf(call({ projectId: "nosuchproject" }))).code).toBe("NOT_FOUND");
  });

  describe("the stream", () => {
    async function refusal(projectId: string, cookie: string | null) {
      const client = await StreamClient.open(world.app.streamUrl(projectId), cookie ? { cookie } : {});
      const frame = await client.waitForEvent("error");
      await client.ended;
      expect(client.status).toBe(200);
      expect(client.sequence()).toEqual(["error"]);
      return errorFrameSchema.parse(JSON.parse(frame.data));
    }

    it("no session → an UNAUTHORIZED error frame, then the response ends (even for an unknown project)", async () => {
      expect((await refusal(world.project.id, null)).code).toBe("UNAUTHORIZED");
      expect((await refusal("nosuchproject", null)).code).toBe("UNAUTHORIZED");
      expect((await refusal(world.project.id, "better-auth.session_token=forged.value")).code).toBe("UNAUTHORIZED");
    });

    it("another user's project → FORBIDDEN; an unknown one → NOT_FOUND", async () => {
      const forbidden = await refusal(world.project.id, world.other.cookie);
      expect(forbidden).toMatchObject({ code: "FORBIDDEN", message: "You do not have access to this project." });
      expect((await refusal("nosuchproject", world.other.cookie)).code).toBe("NOT_FOUND");
    });

    it("the owner → ready, and the stream carries the security headers", async () => {
      const client = await StreamClient.open(world.app.streamUrl(world.project.id), { cookie: world.owner.cookie });
      await client.waitForEvent("ready");
      expect(client.res.headers["x-content-type-options"]).toBe("nosniff");
      expect(client.res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      client.close();
      await client.ended;
    });

    it("a signed-out session opens no new stream, though the authorizer had just cached it", async () => {
      const { app } = world;
      const leaver = await signUpTestUser(app.auth, "leaver");
      const project = await createProject(app.handle.db, leaver.userId, "Left");
      await app.connect(project.id, leaver.cookie);
      await app.connect(project.id, leaver.cookie);
      await app.auth.api.signOut({ headers: leaver.headers });
      expect((await refusal(project.id, leaver.cookie)).code).toBe("UNAUTHORIZED");
    });
  });
});
