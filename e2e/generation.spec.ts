import { test, expect } from "./support/fixtures";
import { forceHolder, MUX_STREAM_ROUTE } from "./support/stream-holder";
import { projectInTwoTabs } from "./support/project-page";
import { injectFault, releaseFaults } from "./support/faults";
import { closeStreams, serverLog } from "./support/server-log";
import { recordStatuses } from "./support/status-recorder";

const BOOKSTORE =
  "A bookstore API with books (title, author -> authors, isbn unique, price:number, published:date) and authors (name, bio?)";

test("create a project, send a description, watch every step, read the result", async ({ app, home, projectPage, page }) => {
  const projectId = await home.createProject(app.baseURL, "Bookstore");
  await expect(page.getByTestId("project-title")).toHaveText("Bookstore");
  await projectPage.expectReady();

  await projectPage.sendMessage(BOOKSTORE);
  // The user's message shows at once, then the run, then every step completes.
  await expect(page.locator('[data-testid="message"][data-role="user"]').first()).toContainText("bookstore API");
  await projectPage.expectRunStatus("completed");
  await projectPage.expectAllStepsCompleted();
  await expect(page.getByTestId("progress-bar")).toHaveAttribute("data-progress", "1.00");

  const reply = projectPage.assistantMessages().last();
  await expect(reply).toContainText("version 1");
  await expect(reply.getByTestId("artifact-code")).toContainText('"openapi": "3.1.0"');
  await reply.getByTestId("artifact-tab-schemas.ts").click();
  await expect(reply.getByTestId("artifact-code")).toContainText("z.object");
  await reply.getByTestId("artifact-tab-routes.ts").click();
  await expect(reply.getByTestId("artifact-code")).toHaveAttribute("data-file", "routes.ts");
  const download = page.waitForEvent("download");
  await reply.getByTestId("download-artifact").click();
  expect((await download).suggestedFilename()).toBe("v1-routes.ts");

  // A follow-up iterates on the previous API and stores version 2.
  await projectPage.sendMessage("add reviews (rating:int 1..5, body) to books");
  await expect(projectPage.assistantMessages()).toHaveCount(2);
  const second = projectPage.assistantMessages().last();
  await expect(second).toContainText("version 2");
  await expect(second.getByTestId("artifact-code")).toContainText("/reviews");
  await expect(second.getByTestId("artifact-code")).toContainText("/books");

  // Everything the server logged reached this page, once, in order.
  const log = await serverLog(page.request, app.baseURL, projectId);
  await expect(page.getByTestId("stream-cursor")).toHaveAttribute("data-received", String(log.length));
  const received = await projectPage.receivedIds();
  expect(received).toEqual(log.map((e) => e.id));
});

test("send stays disabled until the stream is ready", async ({ app, home, projectPage, page }) => {
  // The tab holds its own stream, so the test can hold its request (see e2e/support/stream-holder.ts).
  await forceHolder(page, "this-tab");
  const projectId = await home.createProject(app.baseURL, "Gate");
  // Hold the stream request: the page is up, the stream is not.
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(MUX_STREAM_ROUTE, async (route) => {
    await held;
    await route.continue();
  });
  await projectPage.goto(app.baseURL, projectId);
  await projectPage.input.fill(BOOKSTORE);
  await expect(projectPage.status).toHaveAttribute("data-status", "connecting");
  await expect(projectPage.send).toBeDisabled();
  release();
  await projectPage.expectReady();
  await expect(projectPage.send).toBeEnabled();
});

test("a second tab sees the same run live", async ({ app, home, projectPage, page }) => {
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, "Two tabs");

  await projectPage.sendMessage(BOOKSTORE);
  await other.expectRunStatus("completed");
  await other.expectAllStepsCompleted();
  const runId = await projectPage.runPanel.getAttribute("data-run-id");
  await expect(other.runPanel).toHaveAttribute("data-run-id", runId ?? "missing");
  await expect(other.assistantMessages()).toHaveCount(1);
  // The other tab saw the events live, not only from a later refetch.
  const log = await serverLog(page.request, app.baseURL, projectId);
  await expect(other.page.getByTestId("stream-cursor")).toHaveAttribute("data-received", String(log.length));
  expect(await other.receivedIds()).toEqual(log.map((e) => e.id));
});

test("a second tab shows the message sent in the first as soon as its run starts, not only once it ends", async ({
  app,
  home,
  projectPage,
}) => {
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, "Two tabs, one message");
  await injectFault(projectPage.page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });

  await projectPage.sendMessage(BOOKSTORE);
  await expect(other.step("generate-code")).toHaveAttribute("data-state", "running");
  const sent = other.page.locator('[data-testid="message"][data-role="user"]');
  await expect(sent).toHaveCount(1);
  await expect(sent).toContainText(BOOKSTORE);
  await other.expectRunStatus("running");

  await releaseFaults(projectPage.page.request, app.baseURL, projectId);
  await other.expectRunStatus("completed");
  await expect(other.assistantMessages()).toHaveCount(1);
  await expect(sent).toHaveCount(1);
});

test("a message the generator cannot understand gets a helpful reply", async ({ app, home, projectPage }) => {
  await home.createProject(app.baseURL, "Confused");
  await projectPage.expectReady();
  await projectPage.sendMessage("make me something nice please");
  await projectPage.expectRunStatus("completed");
  const reply = projectPage.assistantMessages().last();
  await expect(reply).toContainText(/example/i);
  await expect(reply.getByTestId("artifact")).toHaveCount(0);
  await expect(projectPage.step("generate-openapi")).toHaveAttribute("data-state", "pending");
});

test("when the server closes the stream the indicator shows reconnecting, then ready", async ({ app, home, projectPage, page }) => {
  const projectId = await home.createProject(app.baseURL, "Drop");
  await projectPage.expectReady();
  const statuses = await recordStatuses(page);
  expect(await closeStreams(page.request, app.baseURL, projectId)).toBe(1);
  await expect.poll(statuses).toContain("reconnecting");
  await projectPage.expectReady();
  const seen = await statuses();
  expect(seen.lastIndexOf("ready")).toBeGreaterThan(seen.indexOf("reconnecting"));
});

test("the job's first event, published right after the send, reaches the page", async ({ app, home, projectPage, page }) => {
  const projectId = await home.createProject(app.baseURL, "First event");
  await projectPage.expectReady();
  await projectPage.sendMessage(BOOKSTORE);
  await projectPage.expectRunStatus("completed");
  const log = await serverLog(page.request, app.baseURL, projectId);
  const first = log[0];
  expect(first?.event.type).toBe("run.started");
  // run.started was received over the stream (it is the first id the page applied).
  const received = await projectPage.receivedIds();
  expect(received[0]).toBe(first?.id);
  expect(received).toEqual(log.map((e) => e.id));
});

test("an unknown project shows not found, and its stream answers with an error event", async ({ app, home, page }) => {
  await home.ensureSignedIn(app.baseURL);
  await page.goto(`${app.baseURL}/projects/doesnotexist`);
  await expect(page.getByTestId("not-found")).toBeVisible();
  const res = await page.request.get(`${app.baseURL}/api/projects/doesnotexist/events`);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("text/event-stream");
  const body = await res.text();
  expect(body).toContain("event: error");
  expect(body).toContain("NOT_FOUND");
});
