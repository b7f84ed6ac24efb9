import "../src/lib/load-env-files";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { log } from "../src/lib/process-log";
import { chooseDevEngine } from "./dev-engine";

/**
 * `npm run dev`: the app with hot reload plus a job engine, and the first log line says which engine
 * (the real Inngest dev server when `inngest-cli` is installed, else the embedded executor).
 */
const engine = chooseDevEngine(process.env, process.cwd());
const devUrl = `http://127.0.0.1:${process.env.GENSTREAM_EXECUTOR_PORT ?? "8288"}`;
log.info(
  { engine: engine.kind, reason: engine.reason, inngestDev: devUrl },
  `job engine: ${engine.kind === "inngest-cli" ? "Inngest dev server (inngest-cli)" : "embedded executor"}`,
);

const concurrently = path.join(process.cwd(), "node_modules", ".bin", "concurrently");
const child = spawn(
  concurrently,
  ["--names", "inngest,app", "--prefix-colors", "blue,green", "--kill-others-on-fail", engine.command, "tsx server.ts"],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      INNGEST_DEV: process.env.INNGEST_DEV ?? devUrl,
      // The engine's dashboard reads a run's progress events from the app; without a signing key
      // this start's own secret, shared by the two processes, is what the app checks.
      GENSTREAM_ENGINE_TOKEN: process.env.GENSTREAM_ENGINE_TOKEN ?? randomBytes(32).toString("base64url"),
    },
  },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
