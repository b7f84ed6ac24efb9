import { randomBytes } from "node:crypto";
import { test as base, expect } from "./support/fixtures";
import { AppServer } from "./support/app-server";
import { AppCluster } from "./support/cluster";
import { appServerPorts } from "./support/ports";
import { expectReceivedEqualsLog } from "./support/lossless";
import { ProjectPage } from "./support/project-page";
import { CANNED_TODO_PLAN, startFakeModelServer, type FakeModelServer } from "../src/test/fake-model-server";

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

/** The model's environment for the app: a token timeout longer than any hold in these tests. */
const modelEnv = (model: FakeModelServer): Record<string, string> => ({
  LLM_BASE_URL: model.baseUrl,
  LLM_MODEL: "fake-model",
  LLM_TIMEOUT_MS: "60000",
});

const test = base.extend<object, { model: FakeModelServer }>({
  model: [
    async ({}, use) => {
      const model = await startFakeModelServer({ tokenRate: 100, tokenSize: TOKEN_SIZE });
      await use(model);
      await model.close();
    },
    { scope: "worker" },
  ],
  app: [
    async ({ model }, use) => {
      const server = new AppServer({ ...(await appServerPorts()), env: modelEnv(model) });
      await server.start();
      await use(server);
      await server.stop();
    },
    { scope: "worker", timeout: 120_000 },
  ],
});

const chatRequests = (model: FakeModelServer) => model.requests.filter((r) => r.path.endsWith("/chat/completions"));

test("a free-form description: every tab watches the model write the plan, then gets that API", async ({
  app,
  model,
  home,
  projectPage,
  page,
}) => {
  const projectId = await home.createProject(app.baseURL, "Todo");
  await projectPage.expectReady();
  const second = new ProjectPage(await page.context().newPage());
  await second.goto(app.baseURL, projectId);
  await second.expectReady();

  model.script({ kind: "hold", content: PLAN_TEXT, afterTokens: HELD_AFTER });
  await projectPage.sendMessage(TODO);
  // Mid-stream: the text so far, in both tabs, while the run is still planning.
  for (const tab of [projectPage, second]) {
    await tab.expectStepText("plan", HELD_TEXT);
    await expect(tab.step("plan")).toHaveAttribute("data-state", "running");
    await tab.expectRunStatus("running");
  }
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
  await home.createProject(app.baseURL, "Reloaded");
  await projectPage.expectReady();
  model.script({ kind: "hold", content: PLAN_TEXT, afterTokens: HELD_AFTER });
  await projectPage.sendMessage(TODO);
  await projectPage.expectStepText("plan", HELD_TEXT);

  await page.reload();
  await projectPage.expectReady();
  // The page rendered the text from the log (the model is still held: nothing new was written).
  await projectPage.expectStepText("plan", HELD_TEXT);
  await projectPage.expectRunStatus("running");
  model.release();
  await projectPage.expectRunStatus("completed");
  await projectPage.expectStepText("plan", PLAN_TEXT);
});

test("the browser offline mid-stream: back online, the text has no gap and no repeat", async ({ app, model, home, projectPage, page }) => {
  const projectId = await home.createProject(app.baseURL, "Offline");
  await projectPage.expectReady();
  model.script({ kind: "hold", content: PLAN_TEXT, afterTokens: HELD_AFTER });
  await projectPage.sendMessage(TODO);
  await projectPage.expectStepText("plan", HELD_TEXT);

  const runDone = app.appLog.waitForMsg("run completed", { projectId });
  await page.context().setOffline(true);
  await expect(projectPage.status).not.toHaveAttribute("data-status", "ready");
  model.release();
  // The rest of the text and the run's end are written while the tab is offline.
  await runDone;
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
  const projectId = await home.createProject(app.baseURL, "Cancelled");
  await projectPage.expectReady();
  const second = new ProjectPage(await page.context().newPage());
  await second.goto(app.baseURL, projectId);
  await second.expectReady();
  // Held and never released: only an abort ends this request (the token timeout is a minute).
  model.script({ kind: "hold", content: PLAN_TEXT, afterTokens: HELD_AFTER });
  await projectPage.sendMessage(TODO);
  await projectPage.expectStepText("plan", HELD_TEXT);

  const aborted = model.nextAbort();
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
    model = await startFakeModelServer({ tokenRate: 100, tokenSize: TOKEN_SIZE });
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
      const projectId = await home.createProject(lb.url, "Cancelled across instances");
      await projectPage.expectReady();
      model.script({ kind: "hold", content: PLAN_TEXT, afterTokens: HELD_AFTER });
      const aborted = model.nextAbort();
      await projectPage.sendMessage(TODO);
      await projectPage.expectStepText("plan", HELD_TEXT);

      const cancelTaken = a.appLog.waitForMsg("run cancelled", { projectId });
      await page.getByTestId("cancel-run").click();
      await cancelTaken;
      expect(await aborted).toMatchObject({ aborted: true, completed: false });
      await projectPage.expectRunStatus("cancelled");
      await projectPage.expectStepText("plan", HELD_TEXT);
      // The model was called by B's step, and the cancel was taken by A: it crossed instances through Redis.
      expect(b.appLog.with("run cancelled", { projectId })).toEqual([]);
      await expectReceivedEqualsLog(projectPage, a, projectId);
    } finally {
      cluster.route((req) => cluster?.pageOnA(req) ?? a.baseURL);
    }
  });
});
