import { LOST_MESSAGE_REASON, LOST_RUN_REASON } from "../inngest/functions/replies";
import { dedicatedServer, expect, test } from "./support/fixtures";
import { injectFault, releaseFaults } from "./support/faults";
import { expectReceivedEqualsLog } from "./support/lossless";
import type { AppServer } from "./support/app-server";
import { projectInTwoTabs, type HomePage, type ProjectPage } from "./support/project-page";

const SHOP = "A shop API with items (name, price:number) and orders (item -> items, quantity:number)";
const BLOG = "A blog API with posts (title, body)";

/**
 * An engine that keeps its runs in memory only (`inngest dev`, or the embedded one without its
 * store) forgets them when it restarts. The app must not trust it: the run it lost is failed, told
 * to every tab, and can be sent again.
 */
/** A new project open in two tabs, its first run (SHOP) held inside generate-code in both. */
async function twoTabsWithARunHeld(app: AppServer, home: HomePage, projectPage: ProjectPage, name: string) {
  const { projectId, other } = await projectInTwoTabs(home, projectPage, app.baseURL, name);
  await injectFault(projectPage.page.request, app.baseURL, { projectId, step: "generate-code", kind: "hold" });
  await projectPage.sendMessage(SHOP);
  for (const tab of [projectPage, other]) await expect(tab.step("generate-code")).toHaveAttribute("data-state", "running");
  return { projectId, other };
}

/** kill -9 of the memory-only engine, then a new one: everything it held is gone. The mark is before the kill. */
async function restartEngine(app: AppServer) {
  const mark = app.appLog.mark();
  await app.killExecutor();
  await app.startExecutor();
  return mark;
}

test.describe("a job engine without its store, killed and restarted mid-run", () => {
  const server = dedicatedServer({ env: { GENSTREAM_EXECUTOR_STORE: "memory", GENSTREAM_RUN_CHECK_AFTER_MS: "1000" } });

  test("the run it lost fails in every tab with a reason a user understands; Retry sends it again and it completes", async ({
    home,
    projectPage,
    page,
  }) => {
    const app = server();
    const { projectId, other } = await twoTabsWithARunHeld(app, home, projectPage, "Lost run");

    const lost = await restartEngine(app);
    await app.appLog.waitForMsg("run reconciled with the job engine", { projectId, engine: "unknown", outcome: "failed" }, lost);
    for (const tab of [projectPage, other]) {
      await tab.expectRunStatus("failed");
      await expect(tab.runReason).toHaveText(LOST_RUN_REASON);
      await expect(tab.assistantMessages().last()).toContainText(LOST_RUN_REASON);
    }
    // The step the dead engine had called wakes up in the app; what it reports of the lost run changes nothing.
    await releaseFaults(page.request, app.baseURL, projectId);

    await other.retryRun.click();
    for (const tab of [projectPage, other]) {
      await tab.expectRunStatus("completed");
      await tab.expectAllStepsCompleted();
      await expect(tab.assistantMessages()).toHaveCount(2);
      await expect(tab.page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(2);
      await expectReceivedEqualsLog(tab, app, projectId);
    }
  });

  test("a message it lost before its run started (queued behind another run) fails in every tab with its own reason; Retry completes it", async ({
    home,
    projectPage,
    page,
  }) => {
    const app = server();
    const { projectId, other } = await twoTabsWithARunHeld(app, home, projectPage, "Lost message");
    // One run per project at a time: the engine accepts the second message and queues it; no run starts.
    const queued = app.appLog.mark();
    await projectPage.sendMessage(BLOG);
    await app.appLog.waitForMsg("message sent", { projectId }, queued);
    await expect(projectPage.page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(2);

    const lost = await restartEngine(app);
    await app.appLog.waitForMsg("message reconciled with the job engine: its event was lost before a run started", { projectId }, lost);
    for (const tab of [projectPage, other]) {
      await tab.expectRunStatus("failed");
      await expect(tab.runReason).toHaveText(LOST_MESSAGE_REASON);
      await expect(tab.assistantMessages().last()).toContainText(LOST_MESSAGE_REASON);
    }
    await releaseFaults(page.request, app.baseURL, projectId);

    // Retry sends the lost message's text again: a new message, a new run, completed in both tabs.
    await other.retryRun.click();
    for (const tab of [projectPage, other]) {
      await tab.expectRunStatus("completed");
      await tab.expectAllStepsCompleted();
      await expect(tab.page.locator('[data-testid="message"][data-role="user"]').last()).toContainText(BLOG);
      await expectReceivedEqualsLog(tab, app, projectId);
    }
  });
});
