import type { BrowserContext } from "@playwright/test";
import { test, expect } from "./support/fixtures";
import { AppServer } from "./support/app-server";
import { injectFault } from "./support/faults";
import { expectCompletedRunShown, expectPageMatchesDatabase, expectReceivedEqualsLog } from "./support/lossless";
import { appServerPorts } from "./support/ports";
import { ProjectPage, type HomePage } from "./support/project-page";
import { serverLog } from "./support/server-log";
import { forceHolder } from "./support/stream-holder";
import { projectStateOf } from "./support/trpc-http";

const BOOKSTORE = "A bookstore API with books (title, author -> authors, isbn unique, price:number) and authors (name, bio?)";
const DONE_BEFORE = ["load-context", "plan", "generate-openapi"] as const;

/**
 * kill -9 of the job engine, the app, or both, while a run's `generate-code` step is in flight (held
 * by a test-only fault, so the kill lands inside that step): the run resumes from the store, the tab
 * that never closed and a tab reloaded afterwards see it complete, steps done before stay done, and
 * each tab received exactly the server's log. The Redis log outlives the app process, so ids can be
 * compared across an app kill too.
 */
let server: AppServer | undefined;
test.beforeAll(async () => {
  server = new AppServer({ ...(await appServerPorts()), eventLog: "redis" });
  await server.start();
});
test.afterAll(async () => server?.stop());

function app(): AppServer {
  if (!server) throw new Error("server not started");
  return server;
}

async function runInFlight(home: HomePage, projectPage: ProjectPage, context: BrowserContext, name: string) {
  await forceHolder(context, "this-tab");
  const projectId = await home.createProject(app().baseURL, name);
  await projectPage.expectReady();
  // The hold fires once: the step's retry after the restart runs through.
  await injectFault(projectPage.page.request, app().baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(BOOKSTORE);
  await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");
  const before = (await projectPage.stepRows()).filter((r) => (DONE_BEFORE as readonly string[]).includes(r.name));
  expect(before.map((r) => r.state)).toEqual(["completed", "completed", "completed"]);
  return { projectId, before };
}

type Row = { name: string; state: string; attempt: number };

/** One completed run, one reply, the page equal to the database, and the steps done before the crash unchanged. */
async function expectCompletedOnce(tab: ProjectPage, projectId: string, before: Row[]): Promise<void> {
  await expectCompletedRunShown(tab);
  await expect(tab.assistantMessages()).toHaveCount(1);
  await expectPageMatchesDatabase(tab, app(), projectId);
  const rows = (await tab.stepRows()).filter((r) => before.some((b) => b.name === r.name));
  expect(rows).toEqual(before);
  expect((await projectStateOf(tab.page.request, app().baseURL, projectId)).runs).toHaveLength(1);
}

/** A tab opened after the crash received the log's tail from where its page was rendered: contiguous, nothing twice. */
async function expectReceivedLogTail(tab: ProjectPage, projectId: string): Promise<void> {
  const log = (await serverLog(tab.page.request, app().baseURL, projectId)).map((e) => e.id);
  const received = await tab.receivedIds();
  expect(received).toEqual(log.slice(log.length - received.length));
}

async function openAnotherTab(context: BrowserContext, projectId: string): Promise<ProjectPage> {
  const tab = new ProjectPage(await context.newPage());
  await tab.goto(app().baseURL, projectId);
  return tab;
}

test("engine killed inside a step: it resumes the run, the step is retried, the open and a new tab see it complete", async ({
  home,
  projectPage,
  context,
}) => {
  const { projectId, before } = await runInFlight(home, projectPage, context, "Engine kill");
  await app().killExecutor();
  await app().startExecutor();
  await app().executorLog.waitForMsg("run resumed");
  const reloaded = await openAnotherTab(context, projectId);
  for (const tab of [projectPage, reloaded]) await expectCompletedOnce(tab, projectId, before);
  await expectReceivedEqualsLog(projectPage, app(), projectId);
  await expectReceivedLogTail(reloaded, projectId);
  // The attempt in flight at the kill counted: the step completed on a later one.
  expect((await projectPage.stepRows()).find((r) => r.name === "generate-code")?.attempt).toBeGreaterThanOrEqual(1);
});

test("app killed inside a step: the engine calls the new app, the open and a new tab follow the run to the end", async ({
  home,
  projectPage,
  context,
}) => {
  const { projectId, before } = await runInFlight(home, projectPage, context, "App kill");
  await app().killApp();
  await app().startApp();
  const reloaded = await openAnotherTab(context, projectId);
  for (const tab of [projectPage, reloaded]) await expectCompletedOnce(tab, projectId, before);
  await expectReceivedEqualsLog(projectPage, app(), projectId);
  await expectReceivedLogTail(reloaded, projectId);
});

test("both killed inside a step: started again, the run completes once, from where it was", async ({ home, projectPage, context }) => {
  const { projectId, before } = await runInFlight(home, projectPage, context, "Both kill");
  await Promise.all([app().killExecutor(), app().killApp()]);
  await app().start();
  await app().executorLog.waitForMsg("run resumed");
  const reloaded = await openAnotherTab(context, projectId);
  for (const tab of [projectPage, reloaded]) await expectCompletedOnce(tab, projectId, before);
  await expectReceivedEqualsLog(projectPage, app(), projectId);
  await expectReceivedLogTail(reloaded, projectId);
});
