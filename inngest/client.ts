import { Inngest } from "inngest";
import { env, inngestClientOptions } from "../src/lib/env";
import { log } from "../src/lib/logger";

/**
 * The stock Inngest client. Which engine runs the functions is configuration only:
 * the embedded executor or an Inngest dev server (INNGEST_DEV=<url>), or Inngest Cloud (keys).
 * Outside development it is in cloud mode: every request to /api/inngest must be signed.
 */
export const inngest = new Inngest({
  id: "genstream",
  // SDK and function logs go through the app's structured logger, not the console.
  logger: log.child({ component: "inngest" }),
  ...inngestClientOptions(env),
});
