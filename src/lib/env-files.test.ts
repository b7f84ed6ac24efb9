/**
 * Secrets kept in `.env` are honoured by the production start path: the real server entry
 * (server.ts, as `npm start` runs it) loads the files before the environment is parsed.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../test/services";

const repo = process.cwd();
const dirs: string[] = [];

/** A project directory with the app's sources (migrations), its node_modules and the given files, but no `next build`. */
function projectDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "genstream-env-"));
  dirs.push(dir);
  for (const link of ["src", "node_modules"]) symlinkSync(path.join(repo, link), path.join(dir, link));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

/** Starts server.ts in `cwd` as `npm start` does, with no secret in its environment; resolves with its output once it exits. */
async function start(cwd: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repo, "server.ts")], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      HOSTNAME: "127.0.0.1",
      PORT: "65001",
      LOG_LEVEL: "info",
      DATABASE_URL: TEST_DATABASE_URL,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, output };
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("the production server entry reads .env", () => {
  it(
    "takes BETTER_AUTH_SECRET and INNGEST_SIGNING_KEY from .env / .env.production (without them it refuses to start)",
    { timeout: 60_000 },
    async () => {
      const env = `BETTER_AUTH_SECRET=${"s".repeat(40)}\n`;
      const production = `INNGEST_SIGNING_KEY=signkey-prod-${"ab".repeat(32)}\n`;
      const [withFiles, without] = await Promise.all([
        start(projectDir({ ".env": env, ".env.production": production })),
        start(projectDir({})),
      ]);

      expect(without.code).toBe(1);
      expect(without.output).toContain("INNGEST_SIGNING_KEY is not set");

      // Past both secret checks and the database; it stops only because this directory has no `next build`.
      expect(withFiles.output).toMatch(/"files":\["\.env\.production","\.env"\].*"environment files loaded"/);
      expect(withFiles.output).not.toContain("is not set");
      expect(withFiles.output).toContain('"msg":"database ready"');
      expect(withFiles.output).toContain("Could not find a production build");
      expect(withFiles.code).toBe(1);
    },
  );
});
