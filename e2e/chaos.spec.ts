import { test } from "./support/fixtures";
import { runChaos } from "./support/chaos-run";

/**
 * Randomized chaos on one production server with the embedded (in-memory) log: see
 * e2e/support/chaos-run.ts. The same run with the Redis log and two instances is in scale-out.spec.ts.
 */
test("chaos: clients dropping and reconnecting at random during many runs lose and duplicate nothing", async ({ app, request }) => {
  test.setTimeout(120_000);
  await runChaos({ instances: [app], request, minDrops: 200 });
});

test("chaos with tabs sharing one connection per browser: tabs reopening and shared sockets dying at random lose and duplicate nothing", async ({
  app,
  request,
}) => {
  test.setTimeout(120_000);
  await runChaos({ instances: [app], request, minDrops: 200, sharedConnection: true });
});
