import { afterEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "./memory-log";
import { errorFrameSchema } from "./protocol";
import { allowAll, setup, type Harness } from "./test-harness";
import type { ReadResult, StreamAuthorizer } from "./types";

const P = "proj-a";
let t: Harness | undefined;
afterEach(async () => {
  await t?.teardown();
  t = undefined;
});

const known = new Set([P]);
const authorizer: StreamAuthorizer = async (projectId, req) => {
  if (!known.has(projectId)) return { ok: false, code: "NOT_FOUND", message: "No such project" };
  if (req.headers["x-user"] !== "owner") return { ok: false, code: "FORBIDDEN", message: "Not your project" };
  return { ok: true };
};

async function expectErrorThenEnd(h: Harness, projectId: string, headers: Record<string, string> = {}) {
  const client = await h.open(projectId, undefined, headers);
  const frame = await client.waitForEvent("error");
  await client.ended;
  expect(client.status).toBe(200);
  expect(client.sequence()).toEqual(["error"]);
  return errorFrameSchema.parse(JSON.parse(frame.data));
}

describe("StreamingService authorization and failures", () => {
  it("an unauthorized request gets an error frame, then the response ends (200, never 500)", async () => {
    t = await setup({ authorize: authorizer });
    expect(await expectErrorThenEnd(t, P)).toEqual({ code: "FORBIDDEN", message: "Not your project" });
    expect(t.capture.with("stream connected")).toHaveLength(0);
    expect(t.capture.with("stream rejected", { projectId: P, code: "FORBIDDEN" })).toHaveLength(1);
    const ok = await t.open(P, undefined, { "x-user": "owner" });
    await ok.waitForEvent("ready");
  });

  it("an unknown project gets NOT_FOUND", async () => {
    t = await setup({ authorize: authorizer });
    expect(await expectErrorThenEnd(t, "nobody", { "x-user": "owner" })).toEqual({
      code: "NOT_FOUND",
      message: "No such project",
    });
    expect(t.service.stats().connections).toBe(0);
  });

  it("a throwing authorizer becomes an INTERNAL error frame", async () => {
    t = await setup({
      authorize: async () => {
        throw new Error("db down");
      },
    });
    expect((await expectErrorThenEnd(t, P)).code).toBe("INTERNAL");
    const line = await t.capture.waitFor((l) => l.msg === "stream failed");
    expect(line).toMatchObject({ projectId: P, level: 50 });
  });

  it("without an authorizer streams are refused (fail closed); the authorizer comes by constructor", async () => {
    t = await setup({ authorize: undefined });
    expect((await expectErrorThenEnd(t, P)).code).toBe("INTERNAL");
    await t.teardown();
    t = await setup({ authorize: allowAll });
    await (await t.open(P)).waitForEvent("ready");
  });

  it("a log failure during the handshake becomes an INTERNAL error frame and unregisters", async () => {
    const log = new MemoryEventLog();
    log.readAfter = async (): Promise<ReadResult> => {
      throw new Error("log unavailable");
    };
    t = await setup({ log });
    expect((await expectErrorThenEnd(t, P, {})).code).toBe("INTERNAL");
    const gone = await t.capture.waitFor((l) => l.msg === "stream disconnected");
    expect(gone).toMatchObject({ projectId: P, reason: "error", connections: 0 });
    expect(t.service.stats()).toEqual({ projects: 0, connections: 0, subscriptions: 0, perProject: {} });
  });

  it("after shutdown new streams get UNAVAILABLE", async () => {
    t = await setup();
    const live = await t.openReady(P);
    await t.service.shutdown();
    const close = await live.client.waitForEvent("close");
    expect(JSON.parse(close.data)).toEqual({ reason: "server-shutdown" });
    await live.client.ended;
    expect((await expectErrorThenEnd(t, P)).code).toBe("UNAVAILABLE");
  });
});
