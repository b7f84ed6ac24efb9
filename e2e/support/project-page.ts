import { randomUUID } from "node:crypto";
import { expect, type Locator, type Page } from "@playwright/test";
import { STEP_NAMES, type RunStatus, type StepName } from "../../src/streaming/protocol";
import { appliedIds } from "./stream-recorder";

/** Page object for a project page: everything a test touches goes through test ids. */
export class ProjectPage {
  readonly status: Locator;
  readonly input: Locator;
  readonly send: Locator;
  readonly runPanel: Locator;
  readonly messages: Locator;
  readonly sendError: Locator;
  /** Why the latest run failed or was cancelled. */
  readonly runReason: Locator;
  /** Sends the failed or cancelled run's message again. */
  readonly retryRun: Locator;

  constructor(readonly page: Page) {
    this.status = page.getByTestId("connection-status");
    this.input = page.getByTestId("composer-input");
    this.send = page.getByTestId("send-button");
    this.runPanel = page.getByTestId("run-panel");
    this.messages = page.getByTestId("message");
    this.sendError = page.getByTestId("send-error");
    this.runReason = page.getByTestId("run-reason");
    this.retryRun = page.getByTestId("retry-run");
  }

  async goto(baseURL: string, projectId: string): Promise<void> {
    await this.page.goto(`${baseURL}/projects/${projectId}`);
  }

  async expectReady(): Promise<void> {
    await expect(this.status).toHaveAttribute("data-status", "ready");
  }

  async sendMessage(content: string): Promise<void> {
    await this.input.fill(content);
    await expect(this.send).toBeEnabled();
    await this.send.click();
  }

  step(name: StepName): Locator {
    return this.page.getByTestId(`step-${name}`);
  }

  /** What a step has written so far (the model's plan text): the block, with `data-attempt` and `data-length`. */
  stepText(name: StepName): Locator {
    return this.page.getByTestId(`step-text-${name}`);
  }

  /**
   * Waits until the step's text is exactly `text` (character for character, whitespace included):
   * the length first, web-first, then the content, so a duplicated or missing delta fails.
   */
  async expectStepText(name: StepName, text: string): Promise<void> {
    const block = this.stepText(name);
    await expect(block).toHaveAttribute("data-length", String(text.length));
    expect(await block.locator("pre").textContent()).toBe(text);
  }

  async expectRunStatus(status: RunStatus): Promise<void> {
    await expect(this.runPanel).toHaveAttribute("data-run-status", status);
  }

  async expectAllStepsCompleted(): Promise<void> {
    for (const name of STEP_NAMES) await expect(this.step(name)).toHaveAttribute("data-state", "completed");
  }

  assistantMessages(): Locator {
    return this.page.locator('[data-testid="message"][data-role="assistant"]');
  }

  /** The ids of the events this tab applied, in order, as its stream client reported them (e2e/support/stream-recorder.ts). */
  receivedIds(): Promise<string[]> {
    return appliedIds(this.page);
  }

  /** The run panel's step rows, in display order, as `{ name, state, attempt }`. */
  async stepRows(): Promise<{ name: string; state: string; attempt: number }[]> {
    return this.runPanel.locator("ol.steps > li").evaluateAll((rows) =>
      rows.map((row) => ({
        name: (row.getAttribute("data-testid") ?? "").replace(/^step-/, ""),
        state: row.getAttribute("data-state") ?? "",
        attempt: Number(row.getAttribute("data-attempt")),
      })),
    );
  }
}

/** A new project open in `first` and in a second tab of the same browser context, both ready (their streams confirmed). */
export async function projectInTwoTabs(
  home: HomePage,
  first: ProjectPage,
  baseURL: string,
  name: string,
): Promise<{ projectId: string; other: ProjectPage }> {
  const projectId = await home.createProject(baseURL, name);
  const other = new ProjectPage(await first.page.context().newPage());
  await other.goto(baseURL, projectId);
  await Promise.all([first.expectReady(), other.expectReady()]);
  return { projectId, other };
}

export class HomePage {
  constructor(readonly page: Page) {}

  /**
   * Gives the browser context a session on this server, signing a fresh account up through the
   * auth API when it has none (the request context shares the browser's cookie jar, so every tab of
   * the context is signed in). The sign-up UI itself is exercised by security.spec.ts.
   */
  async ensureSignedIn(baseURL: string): Promise<void> {
    const current = await this.page.request.get(`${baseURL}/api/auth/get-session`);
    if (current.ok() && (await current.text()) !== "null") return;
    const email = `e2e-${randomUUID()}@example.test`;
    const res = await this.page.request.post(`${baseURL}/api/auth/sign-up/email`, {
      headers: { origin: baseURL },
      data: { name: "E2E", email, password: `pw-${randomUUID()}` },
    });
    if (!res.ok()) throw new Error(`sign-up answered ${res.status()}: ${await res.text()}`);
  }

  async createProject(baseURL: string, name: string): Promise<string> {
    await this.ensureSignedIn(baseURL);
    await this.page.goto(baseURL);
    await this.page.getByTestId("project-name-input").fill(name);
    await this.page.getByTestId("create-project").click();
    await this.page.waitForURL(/\/projects\/[a-z0-9]+$/);
    const id = new URL(this.page.url()).pathname.split("/").pop();
    if (!id) throw new Error("no project id in URL");
    return id;
  }
}
