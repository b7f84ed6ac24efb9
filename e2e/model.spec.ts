import { randomBytes } from "node:crypto";
import { expect } from "./support/fixtures";
import type { AppServer } from "./support/app-server";
import { modelEnv, withModel } from "./support/model-fixtures";
import { AppCluster } from "./support/cluster";
import { expectReceivedEqualsLog } from "./support/lossless";
import { closeStreams, serverLog } from "./support/server-log";
import { ProjectPage, type HomePage } from "./support/project-page";
import { recordTabFrames } from "./support/stream-recorder";
import { forceHolder } from "./support/stream-holder";
import { CANNED_TODO_PLAN, startFakeModelServer, type FakeModelServer, type RecordedRequest } from "../src/test/fake-model-server";

/**
 * The model planner end to end: the app runs with LLM_BASE_URL pointing at a local OpenAI-compatible
 * test server (src/test/fake-model-server.ts) that streams a canned plan token by token. A `hold`
 * step stops the model after a known number of tokens until the test releases it, so "mid-stream"
 * is a state the test waits for, not a moment it guesses.
 */

const TODO = "I need a REST API for a todo app where users have lists and each list has tasks with a due date and a done flag";
/** What the test server streams: the plan as pretty JSON (the model's text, shown as written). */
const PLAN_TEXT = JSON.stringify(CANNED_TODO_PLAN, null, 2);
const TOKEN_SIZE = 4;
const HELD_AFTER = 40;
/** The text every tab shows while the model is held. */
const HELD_TEXT = PLAN_TEXT.slice(0, HELD_AFTER * TOKEN_SIZE);

const test = withModel({ tokenRate: 400, tokenSize: TOKEN_SIZE });

/** After a reload the tab applied exactly the log's events after the cursor its page was rendered at (its recording restarts with the document). */
async function expectLiveAfter(tab: ProjectPage, app: AppServer, projectId: string, renderedCursor: string | null): Promise<void> {
  const log = await serverLog(tab.page.request, app.baseURL, projectId);
  const from = log.findIndex((e) => e.id === renderedCursor);
  expect(from).toBeGreaterThan(-1);
  const after = log.slice(from + 1).map((e) => e.id);
  expect(after.length).toBeGreaterThan(0);
  await expect(tab.page.getByTestId("stream-cursor")).toHaveAttribute("data-received", String(after.length));
  expect(await tab.receivedIds()).toEqual(after);
}

/**
 * A project whose plan the model is writing and holds after HELD_AFTER tokens, watched by `tabs`
 * tabs (the test's page plus new ones): resolves when every tab shows the held text.
 */
async function heldRun(
  baseURL: string,
  model: FakeModelServer,
  home: HomePage,
  first: ProjectPage,
  name: string,
  tabs = 1,
): Promise<{ projectId: string; tabs: ProjectPage[] }> {
  const projectId = await home.createProject(baseURL, name);
  await first.expectReady();
  const all = [first];
  for (let i = 1; i < tabs; i++) {
    const tab = new ProjectPage(await first.page.context().newPage());
    await tab.goto(baseURL, projectId);
    await tab.expectReady();
    all.push(tab);
  }
  model.script({ kind: "hold", content: PLAN_TEXT, afterTokens: HELD_AFTER });
  await first.sendMessage(TODO);
  for (const tab of all) await tab.expectStepText("plan", HELD_TEXT);
  return { projectId, tabs: all };
}

/** The next chat request the client aborted (not a health probe's GET /models). */
async function nextChatAbort(model: FakeModelServer): Promise<RecordedRequest> {
  for (;;) {
    const request = await model.nextAbort();
    if (request.path.endsWith("/chat/completions")) return request;
  }
}

const chatRequests = (model: FakeModelServer) => model.requests.filter((r) => r.path.endsWith("/chat/completions"));

test("a free-form description: every tab watches the model write the plan, then gets that API", async ({
  app,
  model,
  home,
  projectPage,
  page,
}) => {
  const {
    projectId,
    tabs: [, second = projectPage],
  } = await heldRun(app.baseURL, model, home, projectPage, "Todo", 2);
  // Mid-stream: the text so far, in both tabs, while the run is still planning.
  for (const tab of [projectPage, second]) {
    await expect(tab.step("plan")).toHaveAttribute("data-state", "running");
    await tab.expectRunStatus("running");
  }
  // Closing a tab mid-stream never cancels: the run goes on for the others. The tab is in another
  // browser of the same person (its own stream connection), so the server sees it leave.
  const elsewhere = await page
    .context()
    .browser()!
    .newContext({ storageState: await page.context().storageState() });
  await recordTabFrames(elsewhere);
  const third = new ProjectPage(await elsewhere.newPage());
  await third.goto(app.baseURL, projectId);
  // The page renders the text so far from the log; only `ready` proves its stream is subscribed.
  await third.expectReady();
  await third.expectStepText("plan", HELD_TEXT);
  const left = app.appLog.mark();
  await elsewhere.close();
  await app.appLog.waitForMsg("stream unsubscribed", { projectId, connections: 1 }, left);
  model.release();
  for (const tab of [projectPage, second]) {
    await tab.expectRunStatus("completed");
    await tab.expectStepText("plan", PLAN_TEXT);
    const reply = tab.assistantMessages().last();
    await expect(reply).toContainText("Todo API");
    await expect(reply.getByTestId("artifact-code")).toContainText("/lists");
    await expect(reply.getByTestId("artifact-code")).toContainText("/tasks");
    // Nothing lost, nothing twice: each tab applied exactly the server's log.
    await expectReceivedEqualsLog(tab, app, projectId);
  }
  await expect(projectPage.stepText("plan")).toHaveAttribute("data-attempt", "0");
  await second.page.close();
});

test("reload mid-stream: the whole text so far at once, then the rest live", async ({ app, model, home, projectPage, page }) => {
  const { projectId } = await heldRun(app.baseURL, model, home, projectPage, "Reloaded");

  await page.reload();
  await projectPage.expectReady();
  // The page rendered the text from the log (the model is still held: nothing new was written).
  await projectPage.expectStepText("plan", HELD_TEXT);
  await projectPage.expectRunStatus("running");
  const renderedCursor = await page.getByTestId("stream-cursor").getAttribute("data-cursor");
  model.release();
  await projectPage.expectRunStatus("completed");
  await projectPage.expectStepText("plan", PLAN_TEXT);
  await expectLiveAfter(projectPage, app, projectId, renderedCursor);
});

test("the browser offline mid-stream: back online, the text has no gap and no repeat", async ({ app, model, home, projectPage, page }) => {
  // The tab holds its own stream: Playwright's offline emulation does not reach a SharedWorker (tabs.spec.ts cuts the network at a proxy instead).
  await forceHolder(page, "this-tab");
  const { projectId } = await heldRun(app.baseURL, model, home, projectPage, "Offline");

  const runDone = app.appLog.waitForMsg("run completed", { projectId });
  // Chromium's offline emulation fails new requests but leaves an established stream open, so the
  // server cuts it, as a real outage eventually does; every reconnect then fails while offline.
  await page.context().setOffline(true);
  expect(await closeStreams(page.request, app.baseURL, projectId)).toBe(1);
  await expect(projectPage.status).toHaveAttribute("data-status", "reconnecting");
  model.release();
  // The rest of the text and the run's end are written while the tab is offline.
  await runDone;
  await expect(projectPage.status).not.toHaveAttribute("data-status", "ready");
  await projectPage.expectStepText("plan", HELD_TEXT);
  await page.context().setOffline(false);
  await projectPage.expectRunStatus("completed");
  await projectPage.expectStepText("plan", PLAN_TEXT);
  const received = await expectReceivedEqualsLog(projectPage, app, projectId);
  expect(new Set(received).size).toBe(received.length);
});

test("a stream that breaks mid-way is retried: the second attempt's text replaces the first, and the panel says so", async ({
  app,
  model,
  home,
  projectPage,
}) => {
  const projectId = await home.createProject(app.baseURL, "Retried");
  await projectPage.expectReady();
  model.script({ kind: "cut", content: PLAN_TEXT, afterTokens: 30 }, { kind: "stream", content: PLAN_TEXT });
  const requestsBefore = chatRequests(model).length;
  await projectPage.sendMessage(TODO);
  await projectPage.expectRunStatus("completed");
  expect(chatRequests(model).length - requestsBefore).toBe(2);
  await expect(projectPage.stepText("plan")).toHaveAttribute("data-attempt", "1");
  await expect(projectPage.page.getByTestId("step-text-plan-retried")).toContainText("attempt 2");
  // One clean text: attempt 2's whole answer, not attempt 1's start followed by it.
  await projectPage.expectStepText("plan", PLAN_TEXT);
  await expect(projectPage.step("plan")).toHaveAttribute("data-attempt", "1");
  await expectReceivedEqualsLog(projectPage, app, projectId);
});

test("cancel mid-stream stops the model: its request is aborted and every tab shows the run cancelled", async ({
  app,
  model,
  home,
  projectPage,
  page,
}) => {
  // Held and never released: only an abort ends this request (the token timeout is a minute).
  const {
    tabs: [, second = projectPage],
  } = await heldRun(app.baseURL, model, home, projectPage, "Cancelled", 2);

  const aborted = nextChatAbort(model);
  const clicked = Date.now();
  await page.getByTestId("cancel-run").click();
  const request = await aborted;
  test.info().annotations.push({ type: "cancel → model request aborted", description: `${Date.now() - clicked} ms` });
  expect(request).toMatchObject({ aborted: true, completed: false });
  for (const tab of [projectPage, second]) {
    await tab.expectRunStatus("cancelled");
    await expect(tab.page.getByTestId("run-reason")).toHaveText("Cancelled by the user");
    // The text stops where the model was stopped.
    await tab.expectStepText("plan", HELD_TEXT);
  }
  await second.page.close();
});

test.describe("two instances: the cancel is taken by one, the model is called by the other", () => {
  let model: FakeModelServer | undefined;
  let cluster: AppCluster | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    model = await startFakeModelServer({ tokenRate: 400, tokenSize: TOKEN_SIZE });
    cluster = await AppCluster.start({ signingKey: `signkey-test-${randomBytes(32).toString("hex")}`, env: modelEnv(model) });
  });
  test.afterAll(async () => {
    await cluster?.stop();
    await model?.close();
  });

  test("cancel on A aborts the model request B's step made; the text resumes on A losslessly", async ({ home, projectPage, page }) => {
    if (!cluster || !model) throw new Error("cluster not started");
    const { a, b, lb } = cluster;
    // Pages, streams and tRPC (the send and the cancel) on A; the executor runs every step on B.
    cluster.routeAllTo(a);
    try {
      const aborted = nextChatAbort(model);
      const { projectId } = await heldRun(lb.url, model, home, projectPage, "Cancelled across instances");

      const cancelTaken = a.appLog.waitForMsg("run cancelled", { projectId });
      const clicked = Date.now();
      await page.getByTestId("cancel-run").click();
      await cancelTaken;
      expect(await aborted).toMatchObject({ aborted: true, completed: false });
      test.info().annotations.push({ type: "cancel on A → model request of B aborted", description: `${Date.now() - clicked} ms` });
      await projectPage.expectRunStatus("cancelled");
      await projectPage.expectStepText("plan", HELD_TEXT);
      // The model was called by B's step, and the cancel was taken by A: it crossed instances through Redis.
      expect(b.appLog.with("run cancelled", { projectId })).toEqual([]);
      await expectReceivedEqualsLog(projectPage, a, projectId);
    } finally {
      cluster.route((req) => cluster?.pageOnA(req) ?? a.baseURL);
    }
  });

  test("reload on A mid-stream while B's step writes: the text so far comes through Redis, then the rest live", async ({
    home,
    projectPage,
    page,
  }) => {
    if (!cluster || !model) throw new Error("cluster not started");
    const { a, lb } = cluster;
    cluster.routeAllTo(a);
    try {
      const { projectId } = await heldRun(lb.url, model, home, projectPage, "Reloaded across instances");
      await page.reload();
      await projectPage.expectReady();
      await projectPage.expectStepText("plan", HELD_TEXT);
      const renderedCursor = await page.getByTestId("stream-cursor").getAttribute("data-cursor");
      model.release();
      await projectPage.expectRunStatus("completed");
      await projectPage.expectStepText("plan", PLAN_TEXT);
      await expectLiveAfter(projectPage, a, projectId, renderedCursor);
    } finally {
      cluster.route((req) => cluster?.pageOnA(req) ?? a.baseURL);
    }
  });
});
