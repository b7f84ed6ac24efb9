import { randomBytes } from "node:crypto";
import { test, expect } from "./support/fixtures";
import { AppCluster } from "./support/cluster";
import { progressFrames, recordEventSources } from "./support/event-source-recorder";
import { injectFault, releaseFaults } from "./support/faults";
import { expectCompletedRunShown, expectReceivedEqualsLog } from "./support/lossless";
import { RedisServer } from "./support/redis-server";
import { recordStatuses } from "./support/status-recorder";
import { forceHolder } from "./support/stream-holder";
import { runChaos } from "./support/chaos-run";
import { signRequest } from "../inngest/local/signing";

/**
 * Scale-out: two production instances share PostgreSQL and Redis behind a load balancer, and one
 * embedded executor calls instance B's Inngest endpoint with signed requests (production mode,
 * INNGEST_SIGNING_KEY), as a self-hosted Inngest would.
 */
const BOOKSTORE = "A bookstore API with books (title, author -> authors, isbn unique, price:number) and authors (name, bio?)";
// A follow-up to the bookstore (a different API in the same project is answered with a question, not a run).
const FOLLOW_UP = "also publishers (name, country?)";

const signingKey = () => `signkey-test-${randomBytes(32).toString("hex")}`;

interface Health {
  status: "ok" | "degraded";
  eventLog: { ok: boolean; kind: string; circuit?: string; error?: string };
}

async function health(baseURL: string): Promise<Health> {
  const res = await fetch(`${baseURL}/api/health`);
  return (await res.json()) as Health;
}

test.describe("two instances sharing PostgreSQL and Redis", () => {
  let cluster: AppCluster | undefined;
  const key = signingKey();
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    cluster = await AppCluster.start({ signingKey: key });
  });
  test.afterAll(async () => cluster?.stop());
  const get = (): AppCluster => {
    if (!cluster) throw new Error("cluster not started");
    return cluster;
  };

  test("a browser on A sends through B (signed, production Inngest); every event reaches A's page", async ({ home, projectPage }) => {
    const { a, b, lb } = get();
    const projectId = await home.createProject(lb.url, "Scale out");
    await projectPage.expectReady();
    // The page's stream is held by A; its subscribe and the send (tRPC) are routed to B, which reach A's connection through Redis.
    await a.appLog.waitForMsg("stream subscribed", { projectId });
    const sent = b.appLog.mark();
    await projectPage.sendMessage(BOOKSTORE);
    await b.appLog.waitForMsg("message sent", { projectId }, sent);
    await expectCompletedRunShown(projectPage);
    const received = await expectReceivedEqualsLog(projectPage, a, projectId);
    expect(new Set(received).size).toBe(received.length);
    expect(a.appLog.with("message sent", { projectId })).toEqual([]);
    expect(b.appLog.with("stream subscribed", { projectId })).toEqual([]);
    // The run was driven by the executor through B's endpoint, with signed requests B verified.
    const executor = (await (await fetch(`${b.executorURL}/health`)).json()) as Record<string, unknown>;
    expect(executor).toMatchObject({ signed: true, synced: true, appVerifiesSignatures: true });
    expect(b.executorLog.with("local executor listening")[0]?.appUrl).toBe(`${b.baseURL}/api/inngest`);
  });

  test("in production mode the Inngest endpoint rejects a missing or wrong signature", async () => {
    const { a, b } = get();
    const event = { name: "api/iterate", data: { projectId: "p-forged", messageId: "m-forged" }, id: "forged-1", ts: Date.now() };
    const body = JSON.stringify({
      event,
      events: [event],
      steps: {},
      ctx: {
        run_id: "01FORGEDRUN",
        attempt: 0,
        max_attempts: 1,
        disable_immediate_execution: true,
        use_api: false,
        stack: { stack: [], current: 0 },
      },
      version: 2,
    });
    for (const server of [a, b]) {
      const url = `${server.baseURL}/api/inngest?fnId=genstream-generate-api&stepId=step`;
      const post = (headers: Record<string, string>) =>
        fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
      const missing = await post({});
      expect(missing.status).toBe(401);
      const wrong = await post({ "x-inngest-signature": signRequest(body, signingKey()) });
      expect(wrong.status).toBe(401);
      const malformed = await post({ "x-inngest-signature": "t=1&s=00" });
      expect(malformed.status).toBe(401);
      // An unsigned sync (what a dev-mode engine would do) is refused as well.
      const sync = await fetch(`${server.baseURL}/api/inngest`, {
        method: "PUT",
        headers: { "x-inngest-sync-kind": "in_band", "content-type": "application/json" },
        body: "{}",
      });
      expect(sync.status).toBe(401);
      // Control: the same call signed with the app's key passes verification (a discovery answer, no step run).
      const signed = await post({ "x-inngest-signature": signRequest(body, key) });
      expect(signed.status).toBe(206);
    }
  });

  test("instance A killed mid-run: the client reconnects to B through the balancer, no gap, no duplicate", async ({
    home,
    projectPage,
    page,
  }) => {
    const cluster = get();
    const { a, b, lb } = cluster;
    cluster.routeAllTo(a);
    try {
      // The tab holds its own stream, so the page's recorder sees it (e2e/support/stream-holder.ts).
      await forceHolder(page, "this-tab");
      const frames = await recordEventSources(page);
      const projectId = await home.createProject(lb.url, "Failover");
      await projectPage.expectReady();
      await a.appLog.waitForMsg("stream subscribed", { projectId });
      // The steps run in B (the executor's endpoint): hold one there, so A dies at a known point of the run.
      await injectFault(page.request, b.baseURL, { projectId, step: "generate-code", kind: "hold" });
      const statuses = await recordStatuses(page);
      await projectPage.sendMessage(BOOKSTORE);
      await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");

      const onB = b.appLog.mark();
      await a.killApp();
      cluster.routeAllTo(b);
      await b.appLog.waitForMsg("stream subscribed", { projectId }, onB);
      await projectPage.expectReady();
      expect(await releaseFaults(page.request, b.baseURL, projectId)).toBe(1);

      await expectCompletedRunShown(projectPage);
      const received = await expectReceivedEqualsLog(projectPage, b, projectId);
      expect(new Set(received).size).toBe(received.length);
      const seen = await statuses();
      expect(seen.indexOf("reconnecting")).toBeGreaterThan(-1);
      expect(seen.lastIndexOf("ready")).toBeGreaterThan(seen.indexOf("reconnecting"));
      // Resumed by id from the shared log: no reset, and the second stream replayed only the gap.
      const all = await frames();
      expect(all.filter((f) => f.type === "reset")).toEqual([]);
      expect(progressFrames(all).map((f) => f.id)).toEqual(received);
    } finally {
      if (!a.running) await a.startApp();
      cluster.route((req) => cluster.pageOnA(req));
    }
  });

  test("chaos with the Redis log and two instances: clients dropping at random lose and duplicate nothing", async ({ request }) => {
    test.setTimeout(150_000);
    const { a, b, lb } = get();
    expect(a.eventLogKind).toBe("redis");
    await runChaos({ instances: [a, b], signUpURL: lb.url, request, minDrops: 200 });
  });
});

test.describe("Redis stopped mid-run and restarted", () => {
  let redis: RedisServer | undefined;
  let cluster: AppCluster | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    redis = await RedisServer.start();
    cluster = await AppCluster.start({ redisUrl: redis.url, signingKey: signingKey() });
  });
  test.afterAll(async () => {
    await cluster?.stop();
    await redis?.dispose();
  });

  test("health goes degraded and back, the run's events end complete, and a message sent meanwhile is kept and retried", async ({
    home,
    projectPage,
    page,
  }) => {
    test.setTimeout(90_000);
    if (!cluster || !redis) throw new Error("not started");
    const { a, b, lb } = cluster;
    const projectId = await home.createProject(lb.url, "Redis outage");
    await projectPage.expectReady();
    await injectFault(page.request, b.baseURL, { projectId, step: "generate-code", kind: "hold" });
    await projectPage.sendMessage(BOOKSTORE);
    await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");
    expect((await health(a.baseURL)).status).toBe("ok");

    await redis.stop();
    await expect.poll(async () => (await health(a.baseURL)).status).toBe("degraded");
    await expect.poll(async () => (await health(b.baseURL)).eventLog.ok).toBe(false);
    // The held step goes on and publishes into the outage: its publishes wait (timeout, breaker, backoff).
    const waiting = b.appLog.mark();
    expect(await releaseFaults(page.request, b.baseURL, projectId)).toBe(1);
    await b.appLog.waitForMsg("event log unavailable; publish retrying with backoff", { projectId }, waiting);
    await b.appLog.waitForMsg("event log circuit opened");

    // A send now needs Redis (the stream is on A, the send on B): it fails clearly, and the message is kept.
    await projectPage.sendMessage(FOLLOW_UP);
    await expect(projectPage.sendError).toContainText("saved");
    await expect(projectPage.sendError).toContainText("live progress is temporarily unavailable");
    await expect(page.getByTestId("health-banner")).toContainText("live progress is degraded");
    const users = page.locator('[data-testid="message"][data-role="user"]');
    await expect(users).toHaveCount(2);
    await expect(users.last()).toContainText("not delivered");
    await expect(projectPage.input).toHaveValue("");

    await redis.start();
    await expect.poll(async () => (await health(a.baseURL)).status, { timeout: 30_000 }).toBe("ok");
    await expect.poll(async () => (await health(b.baseURL)).status, { timeout: 30_000 }).toBe("ok");
    await expect(page.getByTestId("health-banner")).toHaveCount(0);
    await b.appLog.waitForMsg("publish succeeded after event log outage", { projectId }, waiting);

    // The run that was mid-flight ends complete for the client: exactly the log, once, in order.
    await expectCompletedRunShown(projectPage);
    await expectReceivedEqualsLog(projectPage, a, projectId);

    // The kept message is retried and runs once.
    await page.getByTestId("message-retry").click();
    await expect(projectPage.assistantMessages()).toHaveCount(2);
    await expectCompletedRunShown(projectPage, 2);
    await expect(users).toHaveCount(2);
    await expect(page.getByTestId("message-retry")).toHaveCount(0);
    const received = await expectReceivedEqualsLog(projectPage, a, projectId);
    expect(new Set(received).size).toBe(received.length);
  });
});
