import { createServer } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { openDb } from "../db/client";
import { createTestAuth } from "./auth";

/**
 * One app instance's auth, alone in its own process (`tsx src/test/auth-process.ts <postgres url>`):
 * Better Auth with the app's configuration and rate limit, served over HTTP on a free port. Prints
 * `{"port":N}` once listening. Two of these on one database are two instances of the app.
 */
const url = process.argv[2];
if (!url) throw new Error("usage: auth-process.ts <postgres url>");
const handle = await openDb({ kind: "postgres", url });
const auth = createTestAuth(handle.db, { rateLimit: true });
const handler = toNodeHandler(auth);
const server = createServer((req, res) => void handler(req, res));
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0 })}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  void handle.close().finally(() => process.exit(0));
});
