import { test as base } from "@playwright/test";
import { AppServer } from "./app-server";
import { appServerPorts } from "./ports";
import { HomePage, ProjectPage } from "./project-page";
import { recordTabFrames } from "./stream-recorder";

type WorkerFixtures = { app: AppServer };
type TestFixtures = { home: HomePage; projectPage: ProjectPage };

/** One production server + executor per worker, on ports the OS hands out (shared machines collide on fixed ones). */
export const test = base.extend<TestFixtures, WorkerFixtures>({
  app: [
    async ({}, use) => {
      const server = new AppServer(await appServerPorts());
      await server.start();
      await use(server);
      await server.stop();
    },
    { scope: "worker", timeout: 120_000 },
  ],
  // Every tab of the test's context records what its stream client applied (ProjectPage.receivedIds).
  context: async ({ context }, use) => {
    await recordTabFrames(context);
    await use(context);
  },
  home: async ({ page }, use) => use(new HomePage(page)),
  projectPage: async ({ page }, use) => use(new ProjectPage(page)),
});

export { expect } from "@playwright/test";
