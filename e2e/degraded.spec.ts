import { test, expect } from "./support/fixtures";

test("job engine down: the message is kept, the banner says so, and a retry delivers it once the engine is back", async ({
  app,
  home,
  projectPage,
  page,
}) => {
  await home.createProject(app.baseURL, "Outage");
  await projectPage.expectReady();
  await app.stopExecutor();
  try {
    await projectPage.sendMessage("A shop API with items (name, price:number)");
    await expect(projectPage.sendError).toContainText("saved");
    await expect(page.getByTestId("health-banner")).toContainText("job engine");
    const stored = page.locator('[data-testid="message"][data-role="user"]');
    await expect(stored).toHaveCount(1);
    await expect(stored).toContainText("not delivered");
    // Nothing typed is lost, and nothing is duplicated: the composer is clear because the message is stored.
    await expect(projectPage.input).toHaveValue("");
  } finally {
    await app.startExecutor();
  }
  await page.getByTestId("message-retry").click();
  await projectPage.expectRunStatus("completed");
  await expect(projectPage.assistantMessages()).toHaveCount(1);
  await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(1);
  await expect(page.getByTestId("message-retry")).toHaveCount(0);
  await expect(page.getByTestId("health-banner")).toHaveCount(0);
});
