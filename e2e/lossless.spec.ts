import type { BrowserContext } from "@playwright/test";
import { dedicatedServer, test, expect } from "./support/fixtures";
import type { AppServer } from "./support/app-server";
import { duplicateKeys, progressFrames, recordEventSources } from "./support/event-source-recorder";
import { injectFault, releaseFaults } from "./support/faults";
import { expectCompletedRunShown, expectPageMatchesDatabase, expectReceivedEqualsLog } from "./support/lossless";
import { projectInTwoTabs, type HomePage, type ProjectPage } from "./support/project-page";
import { closeStreams, serverLog } from "./support/server-log";
import { recordStatuses } from "./support/status-recorder";
import { forceHolder, MUX_STREAM_ROUTE } from "./support/stream-holder";
import { projectStateOf } from "./support/trpc-http";

const BOOKSTORE =
  "A bookstore API with books (title, author -> authors, isbn unique, price:number, published:date) and authors (name, bio?)";

/**
 * "Lossless streams": a run is made to be mid-flight by a test-only `hold` fault on one of its steps
 * (the step publishes step.started, then waits for the test to release it), so every scenario acts
 * at a known point of the run instead of racing it.
 *
 * These tests hold, cut and record each tab's own stream, so each tab holds its own connection
 * (`forceHolder(…, "this-tab")`: a SharedWorker's requests are out of the page's reach); the same
 * scenarios over one shared connection are in tabs.spec.ts.
 */

test("browser offline mid-run: the page catches up with every step once, in order, ids equal the server log", async ({
  app,
  home,
  projectPage,
  page,
  context,
}) => {
  await forceHolder(context, "this-tab");
  const frames = await recordEventSources(page);
  const projectId = await home.createProject(app.baseURL, "Offline");
  await projectPage.expectReady();
  await injectFault(page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  const statuses = await recordStatuses(page);

  await projectPage.sendMessage(BOOKSTORE);
  await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");

  // Chromium's offline emulation fails new requests but leaves an established stream open, so the
  // server cuts it, as a real outage eventually does; every reconnect then fails while offline.
  await context.setOffline(true);
  expect(await closeStreams(page.request, app.baseURL, projectId)).toBe(1);
  await expect(projectPage.status).toHaveAttribute("data-status", "reconnecting");
  const failedReconnect = async () => (await frames()).some((f) => f.source > 1 && f.type === "error" && f.data === null);
  await expect.poll(failedReconnect).toBe(true);

  const finished = app.executorLog.mark();
  expect(await releaseFaults(page.request, app.baseURL, projectId)).toBe(1);
  // The rest of the run happens while the browser is offline.
  await app.executorLog.waitForMsg("run finished", { status: "Completed" }, finished);
  await projectPage.expectRunStatus("running");
  await expect(projectPage.status).not.toHaveAttribute("data-status", "ready");

  await context.setOffline(false);
  await expectCompletedRunShown(projectPage);
  await expectReceivedEqualsLog(projectPage, app, projectId);
  const seen = await statuses();
  expect(seen.lastIndexOf("ready")).toBeGreaterThan(seen.indexOf("reconnecting"));
});

test("reload mid-run: completed steps are server-rendered at once, the rest arrive live", async ({ app, home, projectPage, page }) => {
  await forceHolder(page, "this-tab");
  const projectId = await home.createProject(app.baseURL, "Reload");
  await projectPage.expectReady();
  await injectFault(page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(BOOKSTORE);
  await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");

  // Hold the reloaded page's stream: whatever it shows until then came from the server render.
  let releaseStream: () => void = () => undefined;
  const streamHeld = new Promise<void>((resolve) => (releaseStream = resolve));
  await page.route(MUX_STREAM_ROUTE, async (route) => {
    await streamHeld;
    await route.continue();
  });
  await page.reload();
  await expect(projectPage.status).toHaveAttribute("data-status", "connecting");
  for (const done of ["load-context", "plan", "generate-openapi"] as const) {
    await expect(projectPage.step(done)).toHaveAttribute("data-state", "completed");
  }
  await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");
  await expect(projectPage.step("validate")).toHaveAttribute("data-state", "pending");
  const renderedCursor = (await page.getByTestId("stream-cursor").getAttribute("data-cursor")) ?? "";
  expect(await projectPage.receivedIds()).toEqual([]);

  releaseStream();
  await projectPage.expectReady();
  await releaseFaults(page.request, app.baseURL, projectId);
  await expectCompletedRunShown(projectPage);
  // Live after the reload: exactly the log's events after the cursor the page was rendered at.
  const log = await serverLog(page.request, app.baseURL, projectId);
  const after = log.slice(log.findIndex((e) => e.id === renderedCursor) + 1).map((e) => e.id);
  expect(after.length).toBeGreaterThan(0);
  await expect(page.getByTestId("stream-cursor")).toHaveAttribute("data-received", String(after.length));
  expect(await projectPage.receivedIds()).toEqual(after);
  await expectPageMatchesDatabase(projectPage, app, projectId);
});

test("the server closes every stream of the project mid-run: both tabs resume with no gap and no duplicate", async ({
  app,
  home,
  projectPage,
  page,
  context,
}) => {
  await forceHolder(context, "this-tab");
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, "Close streams");
  await injectFault(page.request, app.baseURL, { projectId, step: "generate-openapi", kind: "hold", at: 1 });
  await projectPage.sendMessage(BOOKSTORE);
  for (const tab of [projectPage, other]) await expect(tab.step("generate-openapi")).toHaveAttribute("data-state", "running");

  // Reconnects wait until the run has moved on, so the resumed streams must replay a real gap.
  let reopen: () => void = () => undefined;
  const reopened = new Promise<void>((resolve) => (reopen = resolve));
  for (const tab of [projectPage, other]) {
    await tab.page.route(MUX_STREAM_ROUTE, async (route) => {
      await reopened;
      await route.continue();
    });
  }
  expect(await closeStreams(page.request, app.baseURL, projectId)).toBe(2);
  for (const tab of [projectPage, other]) await expect(tab.status).toHaveAttribute("data-status", "reconnecting");
  const finished = app.executorLog.mark();
  await releaseFaults(page.request, app.baseURL, projectId);
  await app.executorLog.waitForMsg("run finished", { status: "Completed" }, finished);
  reopen();

  for (const tab of [projectPage, other]) {
    await expectCompletedRunShown(tab);
    await expectReceivedEqualsLog(tab, app, projectId);
  }
});

test("a step that fails once and succeeds on retry: no duplicate event reaches the page", async ({ app, home, projectPage, page }) => {
  await forceHolder(page, "this-tab");
  const frames = await recordEventSources(page);
  const projectId = await home.createProject(app.baseURL, "Retry");
  await projectPage.expectReady();
  // Fails after its first step.progress, so the retry re-emits that progress event's key.
  await injectFault(page.request, app.baseURL, { projectId, step: "generate-openapi", kind: "fail-once", at: 1 });
  await projectPage.sendMessage(BOOKSTORE);
  await expectCompletedRunShown(projectPage);
  await expect(projectPage.step("generate-openapi")).toHaveAttribute("data-attempt", "1");

  const received = await expectReceivedEqualsLog(projectPage, app, projectId);
  expect(new Set(received).size).toBe(received.length);
  const log = await serverLog(page.request, app.baseURL, projectId);
  const openapi = log.filter(
    (e) => e.event.type !== "run.started" && e.event.type !== "run.completed" && "step" in e.event && e.event.step === "generate-openapi",
  );
  // The retry's step.started is a distinct event by design (attempt 1); progress and completed are logged once.
  expect(openapi.filter((e) => e.event.type === "step.started").map((e) => e.key)).toEqual([
    expect.stringMatching(/:generate-openapi:started:0$/),
    expect.stringMatching(/:generate-openapi:started:1$/),
  ]);
  expect(openapi.filter((e) => e.event.type === "step.completed")).toHaveLength(1);
  const progressKeys = openapi.filter((e) => e.event.type === "step.progress").map((e) => e.key);
  expect(new Set(progressKeys).size).toBe(progressKeys.length);
  // On the wire, too: every progress frame any of the page's streams delivered, once.
  const delivered = progressFrames(await frames());
  expect(duplicateKeys(delivered)).toEqual([]);
  expect(delivered.map((f) => f.id)).toEqual(log.map((e) => e.id));
  await expectPageMatchesDatabase(projectPage, app, projectId);
});

test("cancel mid-run: run.cancelled reaches every tab", async ({ app, home, projectPage, page }) => {
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, "Cancel");
  await injectFault(page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(BOOKSTORE);
  for (const tab of [projectPage, other]) await expect(tab.step("generate-code")).toHaveAttribute("data-state", "running");

  await page.getByTestId("cancel-run").click();
  for (const tab of [projectPage, other]) {
    await tab.expectRunStatus("cancelled");
    await expect(tab.page.getByTestId("run-reason")).toHaveText("Cancelled by the user");
  }
  const log = await serverLog(page.request, app.baseURL, projectId);
  expect(log.filter((e) => e.event.type === "run.cancelled")).toHaveLength(1);

  // Let the held step return: the engine stops the run at that step boundary, and it stays cancelled.
  const finished = app.executorLog.mark();
  await releaseFaults(page.request, app.baseURL, projectId);
  await app.executorLog.waitForMsg("run finished", { status: "Cancelled" }, finished);
  for (const tab of [projectPage, other]) {
    await tab.expectRunStatus("cancelled");
    await expect(tab.step("validate")).toHaveAttribute("data-state", "pending");
    await expectReceivedEqualsLog(tab, app, projectId);
  }
});

test("closing a tab mid-run does not cancel: the other tab sees run.completed", async ({ app, home, projectPage, page, context }) => {
  await forceHolder(context, "this-tab");
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, "Close a tab");
  await injectFault(other.page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(BOOKSTORE);
  for (const tab of [projectPage, other]) await expect(tab.step("generate-code")).toHaveAttribute("data-state", "running");

  const disconnected = app.appLog.mark();
  await page.close();
  // The sender's stream is gone (the server saw it leave) before the step goes on.
  await app.appLog.waitForMsg("stream unsubscribed", { projectId, connections: 1 }, disconnected);
  await releaseFaults(other.page.request, app.baseURL, projectId);
  await expectCompletedRunShown(other);
  await expectReceivedEqualsLog(other, app, projectId);
  await expectPageMatchesDatabase(other, app, projectId);
});

test.describe("a log that retains only 4 events", () => {
  const small = dedicatedServer({ env: { GENSTREAM_RETENTION_EVENTS: "4" } });

  test("a client away longer than retention gets reset, rebuilds from the database and ends consistent", async ({
    home,
    projectPage,
    page,
  }) => {
    const app = small();
    await forceHolder(page, "this-tab");
    const frames = await recordEventSources(page);
    const projectId = await home.createProject(app.baseURL, "Retention");
    await projectPage.expectReady();
    await injectFault(page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
    await projectPage.sendMessage(BOOKSTORE);
    await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");

    // The client is away (its reconnects wait) while the run logs far more than 4 events.
    let reopen: () => void = () => undefined;
    const reopened = new Promise<void>((resolve) => (reopen = resolve));
    await page.route(MUX_STREAM_ROUTE, async (route) => {
      await reopened;
      await route.continue();
    });
    const cursorBefore = (await page.getByTestId("stream-cursor").getAttribute("data-cursor")) ?? "";
    expect(await closeStreams(page.request, app.baseURL, projectId)).toBe(1);
    await expect(projectPage.status).toHaveAttribute("data-status", "reconnecting");
    const finished = app.executorLog.mark();
    await releaseFaults(page.request, app.baseURL, projectId);
    await app.executorLog.waitForMsg("run finished", { status: "Completed" }, finished);
    // The run logged far more than 4 events after the client's cursor.
    const { cursor: head } = await projectStateOf(page.request, app.baseURL, projectId);
    expect(Number(head.split(":")[1]) - Number(cursorBefore.split(":")[1])).toBeGreaterThan(4);

    const refetched = page.waitForRequest((req) => req.url().includes("/api/trpc/") && req.url().includes("project.get"));
    reopen();
    await refetched;
    await expectCompletedRunShown(projectPage);
    await expectPageMatchesDatabase(projectPage, app, projectId);
    const resets = (await frames()).filter((f) => f.type === "reset");
    expect(resets.map((f) => (JSON.parse(f.data ?? "{}") as { reason?: string }).reason)).toEqual(["retention"]);
    const received = await projectPage.receivedIds();
    expect(new Set(received).size).toBe(received.length);
    // It resumed from the head the reset named: nothing the log no longer has was replayed.
    await expect(page.getByTestId("stream-cursor")).toHaveAttribute("data-cursor", head);
  });
});

/** Two tabs follow a run whose step is held, then the app server restarts under them (the executor keeps the run). */
async function restartMidRun(app: AppServer, home: HomePage, projectPage: ProjectPage, context: BrowserContext) {
  await forceHolder(context, "this-tab");
  const frames = await recordEventSources(projectPage.page);
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, "Restart");
  // The hold lives in the app process: the restart releases it (the executor re-runs the step in the new process).
  await injectFault(projectPage.page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(BOOKSTORE);
  for (const tab of [projectPage, other]) await expect(tab.step("generate-code")).toHaveAttribute("data-state", "running");
  const cursorBefore = (await projectPage.page.getByTestId("stream-cursor").getAttribute("data-cursor")) ?? "";

  await app.restartApp();
  const tabs = [projectPage, other];
  for (const tab of tabs) {
    await expectCompletedRunShown(tab);
    await expect(tab.assistantMessages()).toHaveCount(1);
    await expectPageMatchesDatabase(tab, app, projectId);
    const received = await tab.receivedIds();
    expect(new Set(received).size).toBe(received.length);
  }
  expect((await projectStateOf(projectPage.page.request, app.baseURL, projectId)).runs).toHaveLength(1);
  const resets = (await frames()).filter((f) => f.type === "reset").map((f) => (JSON.parse(f.data ?? "{}") as { reason?: string }).reason);
  return { projectId, tabs, resets, epochBefore: cursorBefore.split(":")[0] };
}

test.describe("the in-memory log", () => {
  const memory = dedicatedServer({ eventLog: "memory" });

  test("app restarted mid-run: clients get reset (new epoch), rebuild from the database and follow the run to the end", async ({
    home,
    projectPage,
    page,
    context,
  }) => {
    const app = memory();
    expect(app.eventLogKind).toBe("memory");
    const { projectId, resets, epochBefore } = await restartMidRun(app, home, projectPage, context);
    expect(resets).toEqual(["unknown-log"]);
    const cursorAfter = (await page.getByTestId("stream-cursor").getAttribute("data-cursor")) ?? "";
    expect(cursorAfter.split(":")[0]).not.toBe(epochBefore);
    // After the reset the page follows the new log: its last applied id is the new log's last event.
    const log = await serverLog(page.request, app.baseURL, projectId);
    expect(log.at(-1)?.event.type).toBe("run.completed");
    await expect(page.getByTestId("stream-cursor")).toHaveAttribute("data-cursor", log.at(-1)?.id ?? "missing");
  });
});

test.describe("the Redis log", () => {
  const redis = dedicatedServer({ eventLog: "redis" });

  test("app restarted mid-run: clients resume by id, no reset, no gap, no duplicate", async ({ home, projectPage, context }) => {
    const app = redis();
    expect(app.eventLogKind).toBe("redis");
    const { projectId, tabs, resets } = await restartMidRun(app, home, projectPage, context);
    expect(resets).toEqual([]);
    // The re-executed step re-published its keys; the shared log dropped them, so every tab has the log exactly.
    for (const tab of tabs) await expectReceivedEqualsLog(tab, app, projectId);
  });
});
