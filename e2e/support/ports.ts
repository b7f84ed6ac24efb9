import { freePort } from "../../src/test/ports";

export { freePort };

/** Ports for one AppServer: the app and its embedded executor. */
export async function appServerPorts(): Promise<{ port: number; executorPort: number }> {
  const port = await freePort();
  let executorPort = await freePort();
  while (executorPort === port) executorPort = await freePort();
  return { port, executorPort };
}
