import "../../src/lib/load-env-files";
import { log } from "../../src/lib/process-log";
import { resolveCliOptions } from "./cli-options";
import { LocalExecutor } from "./executor";
import { probePort } from "./port-probe";
import { openEngineStore } from "./store";

/**
 * `tsx inngest/local/main.ts`: run the embedded executor where the Inngest dev server would
 * listen, unless a real Inngest is configured or already there.
 */
async function main(): Promise<number> {
  const decision = resolveCliOptions(process.env);
  if (!decision.start) {
    log.info({ reason: decision.reason }, "local executor not started");
    return 0;
  }
  const { port, host, appUrl, signingKey, engineToken, dashboard, store: target } = decision;
  if (port !== 0) {
    const state = await probePort(host, port);
    if (state === "ours") {
      log.info({ port }, "local executor already running on this port, not starting another");
      return 0;
    }
    if (state === "other") {
      log.info({ port }, "something else (a real Inngest dev server?) answers on this port, local executor not started");
      return 0;
    }
  }
  const store = await openEngineStore(target, (error) => {
    // Without the hold another executor may take the store and resume these runs: stop, loudly.
    log.error({ err: error.message }, "local executor lost its store");
    process.exit(1);
  });
  log.info(
    {
      store: target.kind,
      ...(target.kind === "pglite" ? { dir: target.dir } : {}),
      ...(target.kind === "memory" ? {} : { schema: target.schema }),
    },
    "executor store open",
  );
  const executor = new LocalExecutor({ appUrl, port, host, signingKey, engineToken, dashboard, store });
  const url = await executor.start();
  if (dashboard.on) log.info({ url: `${url}/dashboard`, auth: dashboard.auth }, "dashboard on");
  else log.info({ reason: dashboard.reason }, "dashboard off");

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1); // A second signal: the user insists.
    stopping = true;
    log.info({ signal }, "local executor shutting down");
    executor
      .stop()
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, "local executor shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    log.error({ err: err instanceof Error ? err.message : String(err) }, "local executor failed to start");
    process.exit(1);
  },
);
