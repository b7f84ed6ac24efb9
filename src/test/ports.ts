import { createServer } from "node:net";

/**
 * A port the OS just handed out and released. Fixed port ranges collide when several suites (or
 * several engineers' runs) share a machine; asking the OS does not.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}
