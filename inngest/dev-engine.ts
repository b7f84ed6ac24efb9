import { accessSync, constants } from "node:fs";
import path from "node:path";
import { z } from "zod";

/**
 * Which job engine `npm run dev` starts beside the app: the real Inngest dev server when the
 * `inngest-cli` binary is installed (node_modules/.bin, e.g. `npm i -D inngest-cli` where its
 * postinstall can download the binary, or anywhere on PATH), else the embedded executor.
 */
export type DevEngine =
  { kind: "inngest-cli"; binary: string; command: string; reason: string } | { kind: "embedded-executor"; command: string; reason: string };

export const devEngineEnvSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  PATH: z.string().default(""),
  /** "embedded" forces the embedded executor even when the CLI is installed. */
  GENSTREAM_DEV_ENGINE: z.enum(["auto", "inngest-cli", "embedded"]).default("auto"),
  GENSTREAM_EXECUTOR_PORT: z.coerce.number().int().min(1).max(65535).default(8288),
});

const NAMES = ["inngest-cli", "inngest"];

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `inngest-cli` (or `inngest`) binary in node_modules/.bin, then on PATH. */
export function findInngestCli(cwd: string, pathVar: string, executable: (file: string) => boolean = isExecutable): string | null {
  const dirs = [path.join(cwd, "node_modules", ".bin"), ...pathVar.split(path.delimiter).filter((d) => d !== "")];
  for (const dir of dirs) {
    for (const name of NAMES) {
      const file = path.join(dir, name);
      if (executable(file)) return file;
    }
  }
  return null;
}

export function chooseDevEngine(
  env: Record<string, string | undefined>,
  cwd: string,
  executable: (file: string) => boolean = isExecutable,
): DevEngine {
  const parsed = devEngineEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const e = parsed.data;
  const embedded = (reason: string): DevEngine => ({ kind: "embedded-executor", command: "tsx inngest/local/main.ts", reason });
  if (e.GENSTREAM_DEV_ENGINE === "embedded") return embedded("GENSTREAM_DEV_ENGINE=embedded");
  const binary = findInngestCli(cwd, e.PATH, executable);
  if (!binary) {
    if (e.GENSTREAM_DEV_ENGINE === "inngest-cli")
      throw new Error("GENSTREAM_DEV_ENGINE=inngest-cli but no inngest-cli binary is installed (node_modules/.bin or PATH)");
    return embedded("no inngest-cli binary installed (node_modules/.bin or PATH)");
  }
  const appUrl = `http://127.0.0.1:${e.PORT}/api/inngest`;
  return {
    kind: "inngest-cli",
    binary,
    command: `"${binary}" dev --no-discovery -u ${appUrl} --port ${e.GENSTREAM_EXECUTOR_PORT}`,
    reason: `found ${binary}`,
  };
}
