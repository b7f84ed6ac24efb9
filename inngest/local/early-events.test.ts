import { describe, expect, it } from "vitest";
import { serve } from "inngest/node";
import { LocalExecutor } from "./executor";
import { AppServer, fastBackoff, onlyRun, send, testClient } from "./test-support";

describe("events that arrive before the app is synced", () => {
  it("wait for the first sync and start their run, instead of being dropped", async () => {
    const app = await AppServer.start();
    await app.stop(); // the app is down while the executor starts
    const executor = new LocalExecutor({ appUrl: app.url, port: 0, backoff: fastBackoff });
    await executor.start();
    try {
      const inngest = testClient(executor.url);
      const early = inngest.createFunction({ id: "early", triggers: [{ event: "test/early" }] }, async ({ step }) =>
        step.run("only", () => "done"),
      );
      app.setHandler(serve({ client: inngest, functions: [early] }));
      const eventId = await send(inngest, "test/early");
      expect(executor.health().synced).toBe(false);
      await app.restart();
      const run = await onlyRun(executor, eventId);
      expect(run.status).toBe("Completed");
      expect(run.output).toBe("done");
    } finally {
      await executor.stop();
      await app.stop().catch(() => undefined);
    }
  });
});
