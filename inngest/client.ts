import { Inngest } from "inngest";
import { env, inngestMode } from "../src/lib/env";
import { log } from "../src/lib/logger";

const mode = inngestMode(env);

/**
 * The stock Inngest client. Which engine runs the functions is configuration only:
 * the embedded executor or an Inngest dev server (INNGEST_DEV=<url>), or Inngest Cloud (keys).
 */
export const inngest = new Inngest({
  id: "genstream",
  // SDK and function logs go through the app's structured logger, not the console.
  logger: log.child({ component: "inngest" }),
  ...(mode.kind === "dev" ? { isDev: true, baseUrl: mode.url } : { isDev: false }),
});
