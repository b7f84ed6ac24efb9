import "../src/lib/load-env-files";
import { spawn } from "node:child_process";
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
  { stdio: "inherit", env: { ...process.env, INNGEST_DEV: process.env.INNGEST_DEV ?? devUrl } },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
