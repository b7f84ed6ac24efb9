import { test as base } from "@playwright/test";
import pg from "pg";
import { AppServer, type AppServerOptions } from "./app-server";
import { appServerPorts } from "./ports";
import { HomePage, ProjectPage } from "./project-page";
import { recordTabFrames } from "./stream-recorder";

type WorkerFixtures = { app: AppServer };
type TestFixtures = { home: HomePage; projectPage: ProjectPage; freshSignInWindow: void };

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
  /**
   * Each test starts a new window of the sign-in limit (30 attempts per IP per minute). On PostgreSQL
   * the limit is counted in the shared database, over every instance and across restarts, and this
   * suite signs up far more than 30 accounts a minute from 127.0.0.1. (On PGlite each server has its
   * own database.) The limit itself is tested by src/auth/rate-limit.test.ts.
   */
  freshSignInWindow: [
    async ({}, use) => {
      const url = process.env.DATABASE_URL;
      if (url) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          // Before any app has migrated this database there is no table yet, and nothing to reset.
          await client.query("DO $$ BEGIN IF to_regclass('public.rate_limit') IS NOT NULL THEN DELETE FROM rate_limit; END IF; END $$");
        } finally {
          await client.end();
        }
      }
      await use();
    },
    { auto: true },
  ],
  home: async ({ page }, use) => use(new HomePage(page)),
  projectPage: async ({ page }, use) => use(new ProjectPage(page)),
});

/** A server of the describe block's own (the worker's shared one keeps the default limits and backend). */
export function dedicatedServer(options: Omit<AppServerOptions, "port" | "executorPort">): () => AppServer {
  let server: AppServer | undefined;
  test.beforeAll(async () => {
    server = new AppServer({ ...(await appServerPorts()), ...options });
    await server.start();
  });
  test.afterAll(async () => server?.stop());
  return () => {
    if (!server) throw new Error("dedicated server not started");
    return server;
  };
}

export { expect } from "@playwright/test";
