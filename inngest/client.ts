import { Inngest } from "inngest";
import { inngestClientOptions, parseServerEnv } from "../src/lib/env";
import { createLogger } from "../src/lib/logger";
import { builtServices } from "../src/services";

/**
 * The stock Inngest client. Which engine runs the functions is configuration only:
 * the embedded executor or an Inngest dev server (INNGEST_DEV=<url>), or Inngest Cloud (keys).
 * Outside development it is in cloud mode: every request to /api/inngest must be signed.
 *
 * Created when the module loads (the route and the functions need it then): in a running server the
 * services are built by then and their config and logger are used; `next build` (which evaluates the
 * route) and unit tests have no server, so it reads the environment itself.
 */
function clientSetup() {
  const built = builtServices();
  if (built) return { config: built.config, logger: built.logger };
  const config = parseServerEnv(process.env);
  return { config, logger: createLogger({ level: config.LOG_LEVEL, format: "json", nodeEnv: config.NODE_ENV }) };
}

const setup = clientSetup();

export const inngest = new Inngest({
  id: "genstream",
  // SDK and function logs go through the app's structured logger, not the console.
  logger: setup.logger.child({ component: "inngest" }),
  ...inngestClientOptions(setup.config),
});
