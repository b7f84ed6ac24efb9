import type { BrowserContext, Page } from "@playwright/test";
import { test, expect } from "./support/fixtures";
import { AppServer } from "./support/app-server";
import { injectFault, releaseFaults } from "./support/faults";
import { LoadBalancer } from "./support/load-balancer";
import { expectCompletedRunShown, expectPageMatchesDatabase, expectReceivedEqualsLog } from "./support/lossless";
import { appServerPorts } from "./support/ports";
import { HomePage, ProjectPage } from "./support/project-page";
import { serverLog } from "./support/server-log";
import { recordStatuses } from "./support/status-recorder";
import { forceHolder } from "./support/stream-holder";
import { recordTabFrames } from "./support/stream-recorder";
import { mutationOf, TrpcHttpError } from "./support/trpc-http";

/**
 * One connection per browser (src/client/shared-stream): one browser context is one person, with
 * many tabs of many projects. The app sits behind a test-side proxy (e2e/support/load-balancer.ts)
 * that counts the stream requests the browser makes and how many are open at once.
 */
const BOOKSTORE =
  "A bookstore API with books (title, author -> authors, isbn unique, price:number, published:date) and authors (name, bio?)";

async function createProject(page: Page, baseURL: string, name: string): Promise<string> {
  const project = (await mutationOf(page.request, baseURL, "project.create", { name })) as { id: string };
  return project.id;
}

async function openTab(context: BrowserContext, baseURL: string, projectId: string, page?: Page): Promise<ProjectPage> {
  const tab = new ProjectPage(page ?? (await context.newPage()));
  await tab.goto(baseURL, projectId);
  return tab;
}

/** The ids a tab applied are the log's last ones, each once, in order: what it missed before its page was rendered came with the render. */
async function expectTailOfLog(tab: ProjectPage, baseURL: string, projectId: string): Promise<void> {
  const log = (await serverLog(tab.page.request, baseURL, projectId)).map((e) => e.id);
  await expect.poll(async () => (await tab.receivedIds()).at(-1)).toBe(log.at(-1));
  const received = await tab.receivedIds();
  expect(received).toEqual(log.slice(log.length - received.length));
}

test.describe("one stream connection per browser", () => {
  let served: AppServer | undefined;
  let lb: LoadBalancer | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    const proxy = await LoadBalancer.start(() => served?.baseURL ?? "http://127.0.0.1:9");
    lb = proxy;
    served = new AppServer({ ...(await appServerPorts()), publicURL: proxy.url });
    await served.start();
  });
  // A failed test must not leave the network down for the next.
  test.afterEach(() => lb?.setOffline(false));
  test.afterAll(async () => {
    await served?.stop();
    await lb?.close();
  });
  const proxy = (): LoadBalancer => {
    if (!lb) throw new Error("proxy not started");
    return lb;
  };
  const app = (): AppServer => {
    if (!served) throw new Error("app not started");
    return served;
  };

  test("3 projects x 4 tabs: every tab ready over one stream request; a send from each project's last tab shows live in all its tabs", async ({
    context,
    home,
  }) => {
    test.setTimeout(240_000);
    const base = proxy().url;
    await home.ensureSignedIn(base);
    const projects = [];
    for (const name of ["Tabs 1", "Tabs 2", "Tabs 3"]) projects.push(await createProject(home.page, base, name));
    const before = { ...proxy().streams };
    const opened = performance.now();
    const tabs: ProjectPage[][] = [];
    for (const projectId of projects) {
      const row: ProjectPage[] = [];
      for (let i = 0; i < 4; i++) row.push(await openTab(context, base, projectId, tabs.length === 0 && i === 0 ? home.page : undefined));
      tabs.push(row);
    }
    const all = tabs.flat();
    for (const tab of all) {
      await tab.expectReady();
      await expect(tab.status).toHaveAttribute("data-holder", "shared-worker");
    }
    const allReadyMs = Math.round(performance.now() - opened);
    // One connection carries all twelve tabs; no tab opened a stream of its own.
    expect(proxy().streams.total - before.total).toBe(1);
    expect(proxy().streams.open).toBe(1);
    expect(proxy().requests.filter((r) => /^GET \/api\/projects\/[^/]+\/events/.test(r))).toEqual([]);
    const connectionIds = new Set(
      await Promise.all(all.map((t) => t.page.getByTestId("stream-cursor").getAttribute("data-connection-id"))),
    );
    expect(connectionIds.size).toBe(1);

    const sent = performance.now();
    const finishedBefore = app().executorLog.with("run finished", { status: "Completed" }).length;
    for (const row of tabs) await row[3]!.sendMessage(BOOKSTORE);
    // Three runs at once on two cores take a while (validate type-checks each): wait for the engine to finish them all.
    await expect
      .poll(() => app().executorLog.with("run finished", { status: "Completed" }).length, { timeout: 120_000 })
      .toBe(finishedBefore + projects.length);
    for (const [p, row] of tabs.entries()) {
      for (const tab of row) {
        await expectCompletedRunShown(tab);
        await expectReceivedEqualsLog(tab, app(), projects[p]!);
      }
    }
    const runsShownMs = Math.round(performance.now() - sent);
    expect(proxy().streams.total - before.total).toBe(1);
    test.info().annotations.push({
      type: "tabs figures",
      description: JSON.stringify({
        tabs: all.length,
        projects: projects.length,
        streamRequests: 1,
        allReadyMs,
        threeRunsShownEverywhereMs: runsShownMs,
      }),
    });
  });

  for (const kind of ["shared-worker", "leader-tab", "this-tab"] as const) {
    test(`${kind}: the first tab closed, then every other tab reloaded in turn, mid-run: no gap, no duplicate`, async ({
      context,
      home,
    }) => {
      test.setTimeout(120_000);
      await forceHolder(context, kind);
      const base = proxy().url;
      await home.ensureSignedIn(base);
      const projectId = await createProject(home.page, base, `Hand-off ${kind}`);
      const otherId = await createProject(home.page, base, `Beside ${kind}`);
      const before = { ...proxy().streams, maxOpen: proxy().streams.open };
      proxy().streams.maxOpen = proxy().streams.open;
      const tabs = [await openTab(context, base, projectId, home.page)];
      for (let i = 0; i < 3; i++) tabs.push(await openTab(context, base, projectId));
      const beside = await openTab(context, base, otherId);
      for (const tab of [...tabs, beside]) {
        await tab.expectReady();
        await expect(tab.status).toHaveAttribute("data-holder", kind);
      }
      await injectFault(home.page.request, base, { projectId, step: "generate-openapi", kind: "hold" });
      await injectFault(home.page.request, base, { projectId, step: "validate", kind: "hold" });
      await tabs[3]!.sendMessage(BOOKSTORE);
      for (const tab of tabs) await expect(tab.step("generate-openapi")).toHaveAttribute("data-state", "running");

      // The first tab opened holds the stream in the leader-tab mode (it took the lock first).
      await tabs[0]!.page.close();
      const rest = tabs.slice(1);
      expect(await releaseFaults(home.page.request, base, projectId, "generate-openapi")).toBe(1);
      for (const tab of rest) await expect(tab.step("validate")).toHaveAttribute("data-state", "running");
      // Across the hand-off each tab received every event once, in order.
      for (const tab of rest) await expectReceivedEqualsLog(tab, app(), projectId);

      for (const tab of rest) {
        await tab.page.reload();
        await tab.expectReady();
        await expect(tab.step("validate")).toHaveAttribute("data-state", "running");
      }
      expect(await releaseFaults(home.page.request, base, projectId, "validate")).toBe(1);
      for (const tab of rest) {
        await expectCompletedRunShown(tab);
        await expectPageMatchesDatabase(tab, app(), projectId);
        await expectTailOfLog(tab, base, projectId);
      }
      await beside.expectReady();
      const streams = proxy().streams;
      const figures = { kind, streamRequests: streams.total - before.total, mostOpenAtOnce: streams.maxOpen };
      test.info().annotations.push({ type: "hand-off figures", description: JSON.stringify(figures) });
      if (kind === "shared-worker") expect(figures).toMatchObject({ streamRequests: 1, mostOpenAtOnce: 1 });
      if (kind === "leader-tab") expect(streams.maxOpen).toBeLessThanOrEqual(2);
      if (kind === "this-tab") expect(streams.maxOpen).toBeGreaterThanOrEqual(5);
    });
  }

  test("leader-tab: a visible tab takes over from a leader that went to the background, and the run carries on in every tab", async ({
    context,
    home,
  }) => {
    await forceHolder(context, "leader-tab");
    const base = proxy().url;
    await home.ensureSignedIn(base);
    const projectId = await createProject(home.page, base, "Hidden leader");
    // The first tab opened leads (it took the lock first).
    const leader = await openTab(context, base, projectId, home.page);
    await leader.expectReady();
    const follower = await openTab(context, base, projectId);
    await follower.expectReady();
    const before = proxy().streams.total;
    expect(proxy().streams.open).toBe(1);

    // The leader's tab goes to the background (as switching tabs does; headless pages are always visible).
    await leader.page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    // The follower took the lock and opened its own connection; the old leader closed its own.
    await expect.poll(() => proxy().streams.total).toBe(before + 1);
    await expect.poll(() => proxy().streams.open).toBe(1);
    for (const tab of [leader, follower]) await tab.expectReady();

    await follower.sendMessage(BOOKSTORE);
    for (const tab of [leader, follower]) {
      await expectCompletedRunShown(tab);
      await expectReceivedEqualsLog(tab, app(), projectId);
    }
    expect(proxy().streams.total).toBe(before + 1);
  });

  for (const kind of ["shared-worker", "leader-tab"] as const) {
    test(`${kind}: a tab the browser freezes mid-run (the leader, in leader-tab) loses nothing: the others carry on, it catches up on resume`, async ({
      context,
      home,
    }) => {
      await forceHolder(context, kind);
      const base = proxy().url;
      await home.ensureSignedIn(base);
      const projectId = await createProject(home.page, base, `Frozen ${kind}`);
      const frozen = await openTab(context, base, projectId, home.page);
      await frozen.expectReady();
      const other = await openTab(context, base, projectId);
      await other.expectReady();
      await injectFault(home.page.request, base, { projectId, step: "generate-code", kind: "hold" });
      await other.sendMessage(BOOKSTORE);
      for (const tab of [frozen, other]) await expect(tab.step("generate-code")).toHaveAttribute("data-state", "running");
      const before = proxy().streams.total;

      // The Page Lifecycle events a browser sends a tab it freezes and later resumes. (Headless
      // Chromium does not freeze pages: CDP's Page.setWebLifecycleState fires neither event there.)
      const lifecycle = (event: "freeze" | "resume") => frozen.page.evaluate((name) => document.dispatchEvent(new Event(name)), event);
      await lifecycle("freeze");
      if (kind === "leader-tab") {
        // The freezing leader closed its connection and a visible tab took the lock: it leads now.
        await expect.poll(() => proxy().streams.total).toBe(before + 1);
        await expect.poll(() => proxy().streams.open).toBe(1);
      }
      expect(await releaseFaults(home.page.request, app().baseURL, projectId)).toBe(1);
      await expectCompletedRunShown(other);
      await expectReceivedEqualsLog(other, app(), projectId);
      if (kind === "shared-worker") {
        // The worker dropped the frozen tab's sources: nothing reached it since.
        await frozen.expectRunStatus("running");
      }

      await lifecycle("resume");
      await expectCompletedRunShown(frozen);
      await expectReceivedEqualsLog(frozen, app(), projectId);
      expect(proxy().streams.open).toBe(1);
      if (kind === "shared-worker") expect(proxy().streams.total).toBe(before);
    });
  }

  test("a SharedWorker whose script cannot load: the tabs fall back to a leader tab and work", async ({ context, home }) => {
    // Turbopack's worker entry (the bootstrap that loads src/client/shared-stream/worker.ts).
    await context.route("**/_next/static/chunks/turbopack-worker-*", (route) => route.abort("failed"));
    const base = proxy().url;
    await home.ensureSignedIn(base);
    const projectId = await createProject(home.page, base, "No worker");
    const tabs = [await openTab(context, base, projectId, home.page), await openTab(context, base, projectId)];
    for (const tab of tabs) {
      await tab.expectReady();
      await expect(tab.status).toHaveAttribute("data-holder", "leader-tab");
    }
    expect(proxy().streams.open).toBe(1);
    await tabs[1]!.sendMessage(BOOKSTORE);
    for (const tab of tabs) {
      await expectCompletedRunShown(tab);
      await expectReceivedEqualsLog(tab, app(), projectId);
    }
  });

  test("the whole browser offline mid-run: every tab of both projects reconnects and catches up", async ({ context, home }) => {
    test.setTimeout(120_000);
    const base = proxy().url;
    await home.ensureSignedIn(base);
    const projectIds = [await createProject(home.page, base, "Offline 1"), await createProject(home.page, base, "Offline 2")];
    const tabs = [
      await openTab(context, base, projectIds[0]!, home.page),
      await openTab(context, base, projectIds[0]!),
      await openTab(context, base, projectIds[1]!),
      await openTab(context, base, projectIds[1]!),
    ];
    for (const tab of tabs) await tab.expectReady();
    const statuses = await Promise.all(tabs.map((t) => recordStatuses(t.page)));
    for (const projectId of projectIds) await injectFault(home.page.request, base, { projectId, step: "generate-code", kind: "hold" });
    await tabs[1]!.sendMessage(BOOKSTORE);
    await tabs[3]!.sendMessage(BOOKSTORE);
    for (const tab of tabs) await expect(tab.step("generate-code")).toHaveAttribute("data-state", "running");

    // Playwright's offline emulation covers the pages but not the SharedWorker's requests, and it
    // leaves an established stream open: the proxy takes the network down for both.
    await context.setOffline(true);
    proxy().setOffline(true);
    for (const tab of tabs) await expect(tab.status).not.toHaveAttribute("data-status", "ready");
    const finishedBefore = app().executorLog.with("run finished", { status: "Completed" }).length;
    for (const projectId of projectIds) expect(await releaseFaults(home.page.request, app().baseURL, projectId)).toBe(1);
    // Both runs end while the browser is cut off.
    await expect
      .poll(() => app().executorLog.with("run finished", { status: "Completed" }).length, { timeout: 60_000 })
      .toBe(finishedBefore + projectIds.length);
    for (const tab of tabs) await tab.expectRunStatus("running");
    proxy().setOffline(false);
    await context.setOffline(false);
    for (const [i, tab] of tabs.entries()) {
      await expectCompletedRunShown(tab);
      await expectReceivedEqualsLog(tab, app(), projectIds[i < 2 ? 0 : 1]!);
      const seen = await statuses[i]!();
      expect(seen.lastIndexOf("ready")).toBeGreaterThan(seen.indexOf("reconnecting"));
    }
  });

  test("another user's project cannot be subscribed on your connection, nor your project on theirs", async ({ browser, context, home }) => {
    const base = proxy().url;
    await home.ensureSignedIn(base);
    const mine = await createProject(home.page, base, "Mine");
    const myTab = await openTab(context, base, mine, home.page);
    await myTab.expectReady();
    const myConnection = await myTab.page.getByTestId("stream-cursor").getAttribute("data-connection-id");

    const theirContext = await browser.newContext();
    try {
      await recordTabFrames(theirContext);
      const theirHome = new HomePage(await theirContext.newPage());
      await theirHome.ensureSignedIn(base);
      const theirs = await createProject(theirHome.page, base, "Theirs");
      const theirTab = await openTab(theirContext, base, theirs, theirHome.page);
      await theirTab.expectReady();
      const theirConnection = await theirTab.page.getByTestId("stream-cursor").getAttribute("data-connection-id");
      expect(myConnection).not.toBe(theirConnection);

      const refusal = async (page: Page, input: { connectionId: string | null; projectId: string }) =>
        mutationOf(page.request, base, "stream.subscribe", input).then(
          () => null,
          (error: unknown) => (error instanceof TrpcHttpError ? { code: error.code, message: error.message } : error),
        );
      expect(await refusal(myTab.page, { connectionId: myConnection, projectId: theirs })).toEqual({
        code: "FORBIDDEN",
        message: "stream.subscribe: FORBIDDEN: You do not have access to this project.",
      });
      expect(await refusal(myTab.page, { connectionId: theirConnection, projectId: mine })).toEqual({
        code: "PRECONDITION_FAILED",
        message: "stream.subscribe: PRECONDITION_FAILED: This stream connection belongs to another user.",
      });
      expect(await refusal(theirTab.page, { connectionId: myConnection, projectId: theirs })).toMatchObject({
        code: "PRECONDITION_FAILED",
      });
      // Both still live on their own connections.
      await myTab.expectReady();
      await theirTab.expectReady();
    } finally {
      await theirContext.close();
    }
  });
});
