import type { Page } from "@playwright/test";
import { test, expect } from "./support/fixtures";

/**
 * The browser side of the security issue: hostile markup is shown as text and never runs, the pages
 * carry their security headers and work under their Content-Security-Policy, and a project is
 * private to its owner. Each test signs a fresh account up through the UI.
 */

const PASSWORD = "correct horse battery staple";

declare global {
  interface Window {
    __xss?: unknown;
    __cspViolations?: string[];
  }
}

/** Records everything that would show an injection or a CSP problem on this page. */
function watch(page: Page): { dialogs: string[]; problems: string[] } {
  const seen = { dialogs: [] as string[], problems: [] as string[] };
  page.on("dialog", (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (/content security policy|refused to (execute|load|apply|connect)/i.test(message.text())) seen.problems.push(message.text());
  });
  page.on("pageerror", (error) => seen.problems.push(`page error: ${error.message}`));
  return seen;
}

async function recordCspViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations?.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

async function signUp(page: Page, baseURL: string, label: string): Promise<string> {
  const email = `${label}-${crypto.randomUUID()}@example.test`;
  // A page needing a session sends the browser to sign-in, remembering where it was going.
  await page.goto(`${baseURL}/`);
  await expect(page).toHaveURL(/\/sign-in\?next=%2F$/);
  await page.getByTestId("to-sign-up").click();
  await page.getByTestId("name-input").fill(label);
  await page.getByTestId("email-input").fill(email);
  await page.getByTestId("password-input").fill(PASSWORD);
  await page.getByTestId("sign-up-submit").click();
  await expect(page.getByTestId("current-user")).toHaveText(email);
  await expect(page).toHaveURL(`${baseURL}/`);
  return email;
}

test("markup in a message and a project name renders as text, runs nothing, and the app works under its CSP", async ({ app, home, projectPage, page }) => {
  const seen = watch(page);
  await recordCspViolations(page);
  await signUp(page, app.baseURL, "xss");

  const response = await page.goto(`${app.baseURL}/`);
  const headers = response?.headers() ?? {};
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["content-security-policy"]).toContain("object-src 'none'");
  expect(headers["content-security-policy"]).toContain("connect-src 'self'");
  expect(headers["content-security-policy"]).not.toContain("unsafe-eval");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(headers["x-frame-options"]).toBe("DENY");

  const name = `<img src=x onerror="window.__xss='name'"><b>Evil</b>`;
  const projectId = await home.createProject(app.baseURL, name);
  await expect(page.getByTestId("project-title")).toHaveText(name);
  await projectPage.expectReady();

  const hostile = `A shop API with items (name) <img src=x onerror="window.__xss='img';alert('img')"> <script>window.__xss='script';alert('script')</script>`;
  await projectPage.sendMessage(hostile);
  const sent = page.locator('[data-testid="message"][data-role="user"]').last();
  await expect(sent.getByTestId("message-content")).toHaveText(hostile);
  // The stream and tRPC both work under the policy: the run completes and its reply arrives.
  await projectPage.expectRunStatus("completed");
  await expect(projectPage.assistantMessages()).toHaveCount(1);

  // Rendered by the server this time (stored message, SSR), then hydrated: still text.
  await projectPage.goto(app.baseURL, projectId);
  await projectPage.expectReady();
  await expect(page.getByTestId("message-content").first()).toHaveText(hostile);
  await expect(page.locator('[data-testid="messages"] img, [data-testid="messages"] script, [data-testid="project-title"] *')).toHaveCount(0);
  const code = page.getByTestId("artifact-code");
  if ((await code.count()) > 0) await expect(code.locator("img, script")).toHaveCount(0);

  expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  expect(await page.evaluate(() => window.__cspViolations ?? [])).toEqual([]);
  expect(seen.dialogs).toEqual([]);
  expect(seen.problems).toEqual([]);
});

test("a project is private: another account gets a no-access page and a refused stream; signing out ends the session", async ({ app, home, page, browser }) => {
  await signUp(page, app.baseURL, "owner");
  const projectId = await home.createProject(app.baseURL, "Private");

  const context = await browser.newContext();
  try {
    const intruder = await context.newPage();
    await intruder.goto(`${app.baseURL}/projects/${projectId}`);
    // Without a session: sign-in, which brings the user back to the project afterwards.
    await expect(intruder).toHaveURL(new RegExp(`/sign-in\\?next=%2Fprojects%2F${projectId}$`));
    await signUp(intruder, app.baseURL, "intruder");
    await intruder.goto(`${app.baseURL}/projects/${projectId}`);
    await expect(intruder.getByTestId("forbidden")).toBeVisible();
    await expect(intruder.getByTestId("project-title")).toHaveCount(0);
    const stream = await intruder.request.get(`${app.baseURL}/api/projects/${projectId}/events`);
    expect(await stream.text()).toContain('"code":"FORBIDDEN"');
    await expect(intruder.getByTestId("project-link")).toHaveCount(0);
  } finally {
    await context.close();
  }

  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto(`${app.baseURL}/projects/${projectId}`);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
});
