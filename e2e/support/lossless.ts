import { expect } from "@playwright/test";
import { STEP_NAMES } from "../../src/streaming/protocol";
import type { AppServer } from "./app-server";
import type { ProjectPage } from "./project-page";
import { serverLog } from "./server-log";
import { projectStateOf } from "./trpc-http";

/** The run ended completed on the page: every step shown once, in order, completed, and the result arrived. */
export async function expectCompletedRunShown(tab: ProjectPage, version = 1): Promise<void> {
  await tab.expectRunStatus("completed");
  await expect(tab.runPanel.locator("ol.steps > li")).toHaveCount(STEP_NAMES.length);
  await tab.expectAllStepsCompleted();
  expect((await tab.stepRows()).map((r) => r.name)).toEqual([...STEP_NAMES]);
  await expect(tab.page.getByTestId("progress-bar")).toHaveAttribute("data-progress", "1.00");
  const reply = tab.assistantMessages().last();
  await expect(reply).toContainText(`version ${version}`);
  await expect(reply.getByTestId("artifact-code")).toContainText('"openapi": "3.1.0"');
}

/** The ids this tab applied are exactly the server's log: nothing lost, nothing twice, same order. */
export async function expectReceivedEqualsLog(tab: ProjectPage, app: AppServer, projectId: string): Promise<string[]> {
  const log = await serverLog(tab.page.request, app.baseURL, projectId);
  await expect(tab.page.getByTestId("stream-cursor")).toHaveAttribute("data-received", String(log.length));
  const received = await tab.receivedIds();
  expect(received).toEqual(log.map((e) => e.id));
  return received;
}

/** The page's latest run equals what the database holds: status and every step's state and attempt. */
export async function expectPageMatchesDatabase(tab: ProjectPage, app: AppServer, projectId: string): Promise<void> {
  const { runs } = await projectStateOf(tab.page.request, app.baseURL, projectId);
  const latest = [...runs].sort((a, b) => b.startedAt - a.startedAt)[0];
  if (!latest) throw new Error("the database has no run");
  // No duplicate step rows in the database either.
  expect(new Set(latest.steps.map((s) => s.name)).size).toBe(latest.steps.length);
  await expect(tab.runPanel).toHaveAttribute("data-run-id", latest.runId);
  await tab.expectRunStatus(latest.status);
  const stored = new Map(latest.steps.map((s) => [s.name, s]));
  const expected = STEP_NAMES.map((name) => ({
    name,
    state: stored.get(name)?.state ?? "pending",
    attempt: stored.get(name)?.attempt ?? 0,
  }));
  expect(await tab.stepRows()).toEqual(expected);
}
