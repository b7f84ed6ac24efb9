import { expect, type Locator, type Page } from "@playwright/test";
import type { AppServer } from "./app-server";

/**
 * Page object for the engine's dashboard (inngest/local/dashboard) on the executor's port.
 * Everything goes through test ids; rows are opened the way a keyboard user does (focus, Enter).
 */
export class DashboardPage {
  readonly live: Locator;
  readonly runDetail: Locator;
  readonly eventDetail: Locator;

  constructor(
    readonly page: Page,
    private readonly app: AppServer,
  ) {
    this.live = page.getByTestId("live-status");
    this.runDetail = page.getByTestId("run-detail");
    this.eventDetail = page.getByTestId("event-detail");
  }

  /** Opens the dashboard, signing in with the executor's key, and waits for its live stream's snapshot. */
  async open(path = "/dashboard"): Promise<void> {
    await this.page.goto(`${this.app.executorURL}${path}`);
    const key = this.page.getByTestId("signin-key");
    await expect(key.or(this.live)).toBeVisible();
    if (await key.isVisible()) await this.signIn(this.app.executorSigningKey);
    await expect(this.live).toHaveAttribute("data-state", "open");
  }

  async signIn(key: string): Promise<void> {
    await this.page.getByTestId("signin-key").fill(key);
    await this.page.getByTestId("signin-submit").click();
  }

  /** Marks the document, so a test can tell later that what it saw came live, not from a reload. */
  async markDocument(): Promise<void> {
    await this.page.evaluate(() => document.documentElement.setAttribute("data-e2e-document", "original"));
  }

  async expectSameDocument(): Promise<void> {
    await expect(this.page.locator("html")).toHaveAttribute("data-e2e-document", "original");
  }

  runRow(runId: string): Locator {
    return this.page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  }

  async openRun(runId: string): Promise<void> {
    const row = this.runRow(runId);
    await row.focus();
    await row.press("Enter");
    await expect(this.runDetail).toHaveAttribute("data-run-id", runId);
  }

  step(name: string): Locator {
    return this.runDetail.locator(`[data-testid="run-step"][data-step-name="${name}"]`);
  }

  async expectRunStatus(status: string): Promise<void> {
    await expect(this.runDetail).toHaveAttribute("data-status", status);
  }

  /** The ids of the progress events the open run's detail shows (the run's own, then each step's). */
  progressIds(): Promise<string[]> {
    return this.runDetail
      .getByTestId("progress-event")
      .evaluateAll((items) => items.map((item) => item.getAttribute("data-event-id") ?? ""));
  }

  /** The internal id of the open run's event. */
  async eventId(): Promise<string> {
    return (await this.runDetail.getByTestId("run-event-id").textContent()) ?? "";
  }

  async cancelRun(): Promise<void> {
    await this.runDetail.getByTestId("run-cancel").click();
  }

  /** Reruns the open run; resolves with the new run's id once its detail is open. */
  async rerun(): Promise<string> {
    const before = await this.runDetail.getAttribute("data-run-id");
    await this.runDetail.getByTestId("run-rerun").click();
    await expect(this.runDetail).not.toHaveAttribute("data-run-id", before ?? "");
    const runId = await this.runDetail.getAttribute("data-run-id");
    if (!runId) throw new Error("no run id on the rerun's detail");
    return runId;
  }

  async gotoEvents(): Promise<void> {
    await this.page.getByTestId("nav-events").click();
    await expect(this.page.getByTestId("events-table")).toBeVisible();
  }

  /** Sends a test event from the JSON editor; resolves with its id. */
  async sendEvent(event: unknown): Promise<string> {
    await this.page.getByTestId("event-send-json").fill(JSON.stringify(event, null, 2));
    await this.page.getByTestId("event-send").click();
    const link = this.page.getByTestId("event-send-result").locator("a");
    await expect(link).toHaveCount(1);
    return (await link.textContent()) ?? "";
  }

  eventRow(eventId: string): Locator {
    return this.page.locator(`[data-testid="event-row"][data-event-id="${eventId}"]`);
  }
}
