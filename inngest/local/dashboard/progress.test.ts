import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchRunProgress } from "./progress";

const KEY = "signkey-test-0123";
const RUN = "01JR0000000000000000000001";
let server: Server;
let appUrl: string;
const answers = new Map<string, { status: number; body: string }>();
const seen: { path: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? "", authorization: req.headers.authorization });
    const answer = answers.get(req.url ?? "") ?? { status: 404, body: JSON.stringify({ error: "no such route" }) };
    res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`;
});
afterAll(async () => {
  server.close();
  await once(server, "close");
});

const path = (runId: string) => `/api/engine/runs/${runId}/progress`;

describe("fetchRunProgress", () => {
  it("asks the app's progress route with the signing key and reads its events", async () => {
    const events = [{ id: "e:1", key: `${RUN}:run.started`, event: { type: "run.started", at: 1, runId: RUN } }];
    answers.set(path(RUN), { status: 200, body: JSON.stringify({ runId: RUN, projectId: "p1", events }) });
    expect(await fetchRunProgress(appUrl, KEY, RUN)).toEqual({ ok: true, progress: { runId: RUN, projectId: "p1", events } });
    expect(seen.at(-1)).toEqual({ path: path(RUN), authorization: `Bearer ${KEY}` });
  });

  it("says why when it cannot: no key, the app's refusal, a malformed answer, no app", async () => {
    expect(await fetchRunProgress(appUrl, undefined, RUN)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("INNGEST_SIGNING_KEY"),
    });
    answers.set(path("R401"), { status: 401, body: JSON.stringify({ error: "send the signing key" }) });
    expect(await fetchRunProgress(appUrl, KEY, "R401")).toEqual({ ok: false, reason: "the app answered 401: send the signing key" });
    answers.set(path("BAD"), { status: 200, body: JSON.stringify({ runId: "BAD", events: "no" }) });
    expect(await fetchRunProgress(appUrl, KEY, "BAD")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("unexpected answer from the app"),
    });
    expect(await fetchRunProgress("http://127.0.0.1:1/api/inngest", KEY, RUN)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("did not answer"),
    });
  });
});
