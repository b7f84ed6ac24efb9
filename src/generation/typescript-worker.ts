import { parentPort } from "node:worker_threads";
import { z } from "zod";
import { validateTypeScript } from "./validate-typescript";
import { errorMessage } from "../lib/errors";

/**
 * The TypeScript checker's thread (started by typescript-checker.ts): one request at a time, each
 * answered with the same result `validateTypeScript` returns in-process. The parsed lib files stay
 * cached in this thread while it lives, and go with it when it is ended.
 */
const requestSchema = z.object({
  id: z.number().int(),
  files: z.array(z.object({ path: z.string(), content: z.string() })),
  rootDir: z.string(),
});

const port = parentPort;
if (!port) throw new Error("typescript-worker.ts runs only as a worker thread");
port.on("message", (message: unknown) => {
  const request = requestSchema.safeParse(message);
  if (!request.success) {
    const id = z.object({ id: z.number() }).safeParse(message);
    port.postMessage({
      id: id.success ? id.data.id : -1,
      result: { ok: false, errors: [`Bad request to the TypeScript checker: ${errorMessage(request.error)}`] },
    });
    return;
  }
  const { id, files, rootDir } = request.data;
  port.postMessage({ id, result: validateTypeScript(files, { rootDir }) });
});
