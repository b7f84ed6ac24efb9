import { randomUUID } from "node:crypto";
import { test, expect } from "./support/fixtures";
import { DashboardPage } from "./support/dashboard-page";
import { injectFault, releaseFaults } from "./support/faults";
import { projectInTwoTabs } from "./support/project-page";
import { serverLog } from "./support/server-log";
import { ENGINE_CANCELLED_REASON } from "../inngest/functions/replies";

const SHOP = "A shop API with items (name, price:number)";

/**
 * The engine's dashboard on the executor's port, driven like the app: it shows what the engine does
 * live (no reload), and its actions reach the app (a cancel arrives on every tab as run.cancelled).
 * A `hold` fault on a step (test controls) keeps a run mid-flight for as long as a test needs.
 */

test("the dashboard asks for the signing key and refuses a wrong one", async ({ app, page }) => {
  const unauthenticated = await page.request.get(`${app.executorURL}/dashboard/api/stream`);
  expect(unauthenticated.status()).toBe(401);
  const dashboard = new DashboardPage(page, app);
  await page.goto(`${app.executorURL}/dashboard`);
  await dashboard.signIn("signkey-test-wrong");
  await expect(page.getByTestId("signin-error")).toContainText("not this executor's signing key");
  await dashboard.signIn(app.executorSigningKey);
  await expect(dashboard.live).toHaveAttribute("data-state", "open");
});

test("a run appears in the dashboard and completes there without a reload", async ({ app, home, projectPage, context }) => {
  const projectId = await home.createProject(app.baseURL, "Dashboard live");
  await projectPage.expectReady();
  const dashboard = new DashboardPage(await context.newPage(), app);
  await dashboard.open();
  await dashboard.markDocument();

  await injectFault(projectPage.page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(SHOP);
  await expect(projectPage.step("generate-code")).toHaveAttribute("data-state", "running");
  const runId = (await projectPage.runPanel.getAttribute("data-run-id")) ?? "";

  await expect(dashboard.runRow(runId)).toHaveAttribute("data-status", "Running");
  await dashboard.openRun(runId);
  // A step the SDK runs inside a discovery call is reported when it returns: the held one is not listed yet.
  await expect(dashboard.step("plan")).toHaveAttribute("data-status", "Completed");
  await expect(dashboard.step("generate-openapi")).toHaveAttribute("data-status", "Completed");

  expect(await releaseFaults(projectPage.page.request, app.baseURL, projectId)).toBe(1);
  await expect(dashboard.runRow(runId)).toHaveAttribute("data-status", "Completed");
  await dashboard.expectRunStatus("Completed");
  for (const name of ["load-context", "plan", "generate-openapi", "generate-code", "validate", "save"]) {
    await expect(dashboard.step(name)).toHaveAttribute("data-status", "Completed");
  }
  await expect(dashboard.runDetail.getByTestId("run-output")).toBeVisible();
  await projectPage.expectRunStatus("completed");
  // Beside the job, the stream: every progress event the run published, with the ids the tabs got.
  const log = await serverLog(projectPage.page.request, app.baseURL, projectId);
  expect(log.map((e) => e.event.type)).toContain("run.completed");
  await expect.poll(async () => (await dashboard.progressIds()).sort()).toEqual(log.map((e) => e.id).sort());
  const planEvents = dashboard.step("plan").getByTestId("progress-event");
  await expect(planEvents.first()).toHaveAttribute("data-type", "step.started");
  await expect(planEvents.last()).toHaveAttribute("data-type", "step.completed");
  await dashboard.expectSameDocument();

  // Escape closes the detail; the list keeps the run.
  await dashboard.page.keyboard.press("Escape");
  await expect(dashboard.runDetail).toHaveCount(0);
  await expect(dashboard.runRow(runId)).toBeVisible();
});

test("cancel from the dashboard reaches every app tab as run.cancelled", async ({ app, home, projectPage, context }) => {
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, "Dashboard cancel");
  await injectFault(projectPage.page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(SHOP);
  for (const tab of [projectPage, other]) await expect(tab.step("generate-code")).toHaveAttribute("data-state", "running");
  const runId = (await projectPage.runPanel.getAttribute("data-run-id")) ?? "";

  const dashboard = new DashboardPage(await context.newPage(), app);
  await dashboard.open(`/dashboard/runs/${runId}`);
  await dashboard.expectRunStatus("Running");
  const cancelled = app.executorLog.mark();
  await dashboard.cancelRun();
  await app.executorLog.waitForMsg("run cancelled from the dashboard", { runId }, cancelled);

  // The engine stops the run at the held step's end, as Inngest does; then the app is told.
  await releaseFaults(projectPage.page.request, app.baseURL, projectId);
  await dashboard.expectRunStatus("Cancelled");
  for (const tab of [projectPage, other]) {
    await tab.expectRunStatus("cancelled");
    await expect(tab.page.getByTestId("run-reason")).toHaveText(ENGINE_CANCELLED_REASON);
    await expect(tab.step("validate")).toHaveAttribute("data-state", "pending");
  }
  const log = await serverLog(projectPage.page.request, app.baseURL, projectId);
  expect(log.filter((e) => e.event.type === "run.cancelled")).toHaveLength(1);
  await expect(dashboard.runDetail.getByTestId("run-cancel")).toBeDisabled();
});

test("rerun from the dashboard starts a new run of the same event", async ({ app, home, projectPage, context }) => {
  await home.createProject(app.baseURL, "Dashboard rerun");
  await projectPage.expectReady();
  await projectPage.sendMessage(SHOP);
  await projectPage.expectRunStatus("completed");
  const runId = (await projectPage.runPanel.getAttribute("data-run-id")) ?? "";

  const dashboard = new DashboardPage(await context.newPage(), app);
  await dashboard.open(`/dashboard/runs/${runId}`);
  await dashboard.expectRunStatus("Completed");
  const eventId = await dashboard.eventId();
  const requested = app.executorLog.mark();
  const rerunId = await dashboard.rerun();
  expect(rerunId).not.toBe(runId);
  await app.executorLog.waitForMsg("run rerun requested", { runId }, requested);
  await expect(dashboard.runRow(rerunId)).toBeVisible();
  expect(await dashboard.eventId()).toBe(eventId);
  // A new run of the same message: it completes, and the app's tab shows it with its own reply.
  await expect(dashboard.runDetail).toHaveAttribute("data-status", "Completed");
  await expect(dashboard.runRow(runId)).toHaveAttribute("data-status", "Completed");
  await expect(projectPage.runPanel).toHaveAttribute("data-run-id", rerunId);
  await projectPage.expectRunStatus("completed");
  await expect(projectPage.assistantMessages()).toHaveCount(2);
});

test("a test event sent from the dashboard triggers the function", async ({ app, home, context }) => {
  const projectId = await home.createProject(app.baseURL, "Dashboard event");
  const dashboard = new DashboardPage(await context.newPage(), app);
  await dashboard.open();
  await dashboard.gotoEvents();
  // A message id the app never stored: the run starts, and the function fails it with its own reason.
  const messageId = `dashboard-${randomUUID()}`;
  const eventId = await dashboard.sendEvent({ name: "api/iterate", data: { projectId, messageId } });
  await expect(dashboard.eventRow(eventId)).toHaveAttribute("data-event-name", "api/iterate");
  await dashboard.eventRow(eventId).click();
  await expect(dashboard.eventDetail.getByTestId("event-payload")).toContainText(messageId);
  const runLink = dashboard.eventDetail.getByTestId("event-run-link");
  await expect(runLink).toContainText("genstream-generate-api");
  await runLink.click();
  expect(await dashboard.eventId()).toBe(eventId);
  // The function ran for it: its first step cannot store a run for a message that does not exist,
  // and fails after its retries.
  await dashboard.expectRunStatus("Failed");
  await expect(dashboard.step("load-context")).toHaveAttribute("data-status", "Failed");
  await expect(dashboard.runDetail.getByTestId("run-error")).toContainText(messageId);
});
