import http from "node:http";
import type { Page } from "@playwright/test";
import { test, expect } from "./support/fixtures";
import { testControlHeaders } from "./support/app-server";
import { ProjectPage } from "./support/project-page";
import { mutationOf } from "./support/trpc-http";
import { limitMessages, limits } from "../src/server/limits";

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

test("markup in a message and a project name renders as text, runs nothing, and the app works under its CSP", async ({
  app,
  home,
  projectPage,
  page,
}) => {
  const seen = watch(page);
  await recordCspViolations(page);
  await signUp(page, app.baseURL, "xss");

  const response = await page.goto(`${app.baseURL}/`);
  const headers = response?.headers() ?? {};
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["content-security-policy"]).toContain("object-src 'none'");
  expect(headers["content-security-policy"]).toContain("connect-src 'self'");
  expect(headers["content-security-policy"]).toContain("worker-src 'self'");
  expect(headers["content-security-policy"]).not.toContain("unsafe-eval");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(headers["x-frame-options"]).toBe("DENY");

  const name = `<img src=x onerror="window.__xss='name'"><b>Evil</b>`;
  const projectId = await home.createProject(app.baseURL, name);
  await expect(page.getByTestId("project-title")).toHaveText(name);
  await projectPage.expectReady();
  // The shared stream's worker started under the policy (a blocked worker would fall back to a leader tab).
  await expect(projectPage.status).toHaveAttribute("data-holder", "shared-worker");

  const hostile = `A shop API with items (name) <img src=x onerror="window.__xss='img';alert('img')"> <script>window.__xss='script';alert('script')</script>`;
  await projectPage.sendMessage(hostile);
  const sent = page.locator('[data-testid="message"][data-role="user"]').last();
  await expect(sent.getByTestId("message-content")).toHaveText(hostile);
  // The stream and tRPC both work under the policy: the run completes and its reply arrives. The
  // generator refuses the markup and quotes it back: text again.
  await projectPage.expectRunStatus("completed");
  await expect(projectPage.assistantMessages()).toHaveCount(1);
  await expect(projectPage.assistantMessages().first()).toContainText(`can't read "'img'"`);
  // A description it can build: the generated code (full of `<`, e.g. z.infer<typeof …>) is shown as text.
  await projectPage.sendMessage("A shop API with items (name)");
  await expect(projectPage.assistantMessages()).toHaveCount(2);
  await projectPage.expectRunStatus("completed");

  // Rendered by the server this time (stored message, SSR), then hydrated: still text.
  await projectPage.goto(app.baseURL, projectId);
  await projectPage.expectReady();
  await expect(page.getByTestId("message-content").first()).toHaveText(hostile);
  await expect(page.locator('[data-testid="messages"] img, [data-testid="messages"] script, [data-testid="project-title"] *')).toHaveCount(
    0,
  );
  const code = page.getByTestId("artifact-code");
  await expect(code).toHaveCount(1);
  await page.getByTestId("artifact-tab-schemas.ts").click();
  await expect(code).toContainText("export type ItemInput = z.infer<typeof ItemInputSchema>;");
  await expect(code.locator("img, script, typeof")).toHaveCount(0);

  expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  expect(await page.evaluate(() => window.__cspViolations ?? [])).toEqual([]);
  expect(seen.dialogs).toEqual([]);
  expect(seen.problems).toEqual([]);
});

test("a project is private: another account gets a no-access page and a refused stream; signing out ends the session", async ({
  app,
  home,
  page,
  browser,
}) => {
  await signUp(page, app.baseURL, "owner");
  // The production session cookie: Secure (with its __Secure- prefix), HttpOnly, SameSite=Lax.
  const session = (await page.context().cookies()).find((c) => c.name.endsWith("better-auth.session_token"));
  expect(session).toMatchObject({ name: "__Secure-better-auth.session_token", secure: true, httpOnly: true, sameSite: "Lax" });
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

test("the production server's back doors are shut: test controls need the run's token, /api/inngest needs the job engine's signature", async ({
  app,
  request,
}) => {
  // Test controls: without this run's token the path is an ordinary unknown one.
  expect((await request.get(`${app.baseURL}/api/test/projects/someproject/log`)).status()).toBe(404);
  expect(
    (await request.get(`${app.baseURL}/api/test/projects/someproject/log`, { headers: { "x-genstream-test-token": "guessed" } })).status(),
  ).toBe(404);
  const withToken = await request.get(`${app.baseURL}/api/test/projects/someproject/log`, { headers: testControlHeaders });
  expect(withToken.status()).toBe(200);
  expect(await withToken.json()).toEqual({ events: [] });

  // The Inngest endpoint: a run call without a valid signature is refused (the SDK is in cloud mode).
  const event = { name: "api/iterate", data: { projectId: "someproject", messageId: "m" }, id: "forged-1", ts: Date.now() };
  const call = {
    event,
    events: [event],
    steps: {},
    ctx: {
      run_id: "01FORGEDRUN",
      attempt: 0,
      max_attempts: 1,
      disable_immediate_execution: true,
      use_api: false,
      stack: { stack: [], current: 0 },
    },
    version: 2,
  };
  const url = `${app.baseURL}/api/inngest?fnId=genstream-generate-api&stepId=step`;
  const unsigned = await request.post(url, { data: call });
  expect(unsigned.status()).toBe(401);
  const forged = await request.post(url, {
    data: call,
    headers: { "x-inngest-signature": `t=${Math.floor(Date.now() / 1000)}&s=${"ab".repeat(32)}` },
  });
  expect(forged.status()).toBe(401);
});

/** The browser context's cookies as a Cookie header, for a Node client acting as another tab of the same user. */
async function cookieHeader(page: Page): Promise<string> {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
}

/** Opens a live stream of the project the way another tab would, and resolves once it is ready (with its connection id). */
function holdStream(baseURL: string, projectId: string, cookie: string): Promise<{ connectionId: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${baseURL}/api/projects/${projectId}/events`,
      { headers: { cookie, accept: "text/event-stream" }, agent: false },
      (res) => {
        let seen = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          seen += chunk;
          const ready = /(?:^|\n)event: ready\ndata: ([^\n]*)\n/.exec(seen);
          if (ready?.[1])
            resolve({ connectionId: (JSON.parse(ready[1]) as { connectionId: string }).connectionId, close: () => req.destroy() });
          else if (/(?:^|\n)event: error\n/.test(seen)) reject(new Error(`stream refused: ${seen}`));
        });
        res.on("end", () => reject(new Error(`stream ended before ready: ${seen}`)));
      },
    );
    req.on("error", reject);
  });
}

test(`limit: more than ${limits.messageMaxChars} characters cannot be sent, and the composer says why`, async ({
  app,
  home,
  projectPage,
  page,
}) => {
  await home.createProject(app.baseURL, "Long");
  await projectPage.expectReady();
  await projectPage.input.fill("x".repeat(limits.messageMaxChars + 1));
  await expect(page.getByTestId("composer-too-long")).toHaveText(
    `${limitMessages.messageTooLong()}; this one has ${(limits.messageMaxChars + 1).toLocaleString("en-US")}.`,
  );
  await expect(projectPage.send).toBeDisabled();
  // One character less and it goes through.
  await projectPage.input.press("End");
  await projectPage.input.press("Backspace");
  await expect(page.getByTestId("composer-too-long")).toHaveCount(0);
  await projectPage.send.click();
  await expect(projectPage.input).toHaveValue("");
  await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(1);
});

test(`limit: message ${limits.messagesPerMinute + 1} within a minute shows the rate-limit error, keeps the text, and the project keeps working`, async ({
  app,
  projectPage,
  page,
  home,
}) => {
  await signUp(page, app.baseURL, "chatty");
  await home.createProject(app.baseURL, "Chatty");
  await projectPage.expectReady();
  const userMessages = page.locator('[data-testid="message"][data-role="user"]');
  for (let i = 1; i <= limits.messagesPerMinute; i++) {
    // A description the generator answers with a short reply: each send starts a cheap run.
    await projectPage.sendMessage(`make me something nice please (${i})`);
    await expect(projectPage.input).toHaveValue("");
    await expect(userMessages).toHaveCount(i);
  }
  await projectPage.sendMessage("one message too many");
  await expect(projectPage.sendError).toHaveText(limitMessages.tooManyMessages());
  await expect(page.getByTestId("send-retry")).toHaveCount(0);
  // Nothing the user typed is lost, nothing extra was stored.
  await expect(projectPage.input).toHaveValue("one message too many");
  await expect(userMessages).toHaveCount(limits.messagesPerMinute);

  // The rest of the user's work carries on: the stream stays live, the runs finish, a new project can be made.
  await projectPage.expectReady();
  await expect(projectPage.assistantMessages()).toHaveCount(limits.messagesPerMinute, { timeout: 60_000 });
  await home.createProject(app.baseURL, "Another");
  await projectPage.expectReady();
});

test(`limit: project ${limits.projectsPerUser + 1} is refused with the limit shown on the home page; the user's projects keep working`, async ({
  app,
  home,
  projectPage,
  page,
}) => {
  await signUp(page, app.baseURL, "collector");
  // The first projects through tRPC (the browser's session), the last one through the UI.
  for (let i = 1; i < limits.projectsPerUser; i++) {
    const res = await page.request.post(`${app.baseURL}/api/trpc/project.create`, { data: { json: { name: `Project ${i}` } } });
    expect(res.status()).toBe(200);
  }
  const last = await home.createProject(app.baseURL, "The last one");
  await page.goto(`${app.baseURL}/`);
  await expect(page.getByTestId("project-link")).toHaveCount(limits.projectsPerUser);
  await page.getByTestId("project-name-input").fill("One too many");
  await page.getByTestId("create-project").click();
  await expect(page.getByTestId("create-project-error")).toHaveText(limitMessages.tooManyProjects());
  await expect(page).toHaveURL(`${app.baseURL}/`);
  await expect(page.getByTestId("project-link")).toHaveCount(limits.projectsPerUser);

  await page.getByRole("link", { name: "The last one" }).click();
  await expect(page).toHaveURL(`${app.baseURL}/projects/${last}`);
  await projectPage.expectReady();
  await projectPage.sendMessage("make me something nice please");
  await projectPage.expectRunStatus("completed");
});

test(`limit: stream ${limits.concurrentStreamsPerUser + 1} of a user shows the limit in that tab; the others keep working; closing one lets it connect`, async ({
  app,
  home,
  projectPage,
  page,
}) => {
  await signUp(page, app.baseURL, "tabby");
  const projectId = await home.createProject(app.baseURL, "Tabs");
  await projectPage.expectReady();
  const otherProject = (await mutationOf(page.request, app.baseURL, "project.create", { name: "Tabs 2" })) as { id: string };
  const cookie = await cookieHeader(page);
  // This browser holds two: its one connection and this project's subscription on it. Other
  // clients of the same user (per-project streams) hold the rest.
  const held = [];
  for (let i = 2; i < limits.concurrentStreamsPerUser; i++) held.push(await holdStream(app.baseURL, projectId, cookie));

  // Another tab of the same project shares the subscription: nothing more is taken.
  const same = new ProjectPage(await page.context().newPage());
  await same.goto(app.baseURL, projectId);
  await same.expectReady();
  // A tab of another project needs one more subscription: over the limit.
  const extra = new ProjectPage(await page.context().newPage());
  try {
    await extra.goto(app.baseURL, otherProject.id);
    await expect(extra.status).toHaveAttribute("data-status", "error");
    await expect(extra.page.getByTestId("connection-error")).toHaveText(limitMessages.tooManyStreams());
    await expect(extra.send).toBeDisabled();

    // The first tab is unaffected.
    await projectPage.expectReady();
    await projectPage.sendMessage("make me something nice please");
    await projectPage.expectRunStatus("completed");
    await same.expectRunStatus("completed");

    // Another client closes (the server logs it gone, its slot is free): Retry connects.
    const closed = held.pop();
    if (!closed) throw new Error("no stream held");
    const from = app.appLog.mark();
    closed.close();
    await app.appLog.waitForMsg("stream disconnected", { connectionId: closed.connectionId }, from);
    await extra.page.getByTestId("retry-connection").click();
    await extra.expectReady();
  } finally {
    for (const stream of held) stream.close();
    await extra.page.close();
    await same.page.close();
  }
});

test(`limit: a request body over ${limits.requestBodyMaxBytes / 1024} KB (a pasted huge password) is refused with the limit shown on the form; the next sign-in works`, async ({
  app,
  page,
}) => {
  const email = await signUp(page, app.baseURL, "paster");
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByTestId("email-input").fill(email);
  await page.getByTestId("password-input").fill("x".repeat(limits.requestBodyMaxBytes + 1_024));
  await page.getByTestId("sign-in-submit").click();
  await expect(page.getByTestId("auth-error")).toHaveText(limitMessages.bodyTooLarge(limits.requestBodyMaxBytes));
  await page.getByTestId("password-input").fill(PASSWORD);
  await page.getByTestId("sign-in-submit").click();
  await expect(page.getByTestId("current-user")).toHaveText(email);
});
