import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type * as EsbuildModule from "esbuild";
import { log } from "../../../src/lib/process-log";

type Esbuild = typeof EsbuildModule;

/**
 * The dashboard's browser bundle (React, from client/). `npm run build` writes it beside
 * dist/executor.mjs (scripts/build-server.ts), which is what production reads: no bundler at run
 * time, so it works after `npm prune --omit=dev`. Run from source (tsx: `npm run dev`, the tests)
 * there is no prebuilt file beside this module, and it is bundled once, on first request, with
 * esbuild (a dev dependency, present wherever the sources run).
 */
export const CLIENT_BUNDLE_NAME = "dashboard-client.js";
export const CLIENT_ENTRY = fileURLToPath(new URL("./client/main.tsx", import.meta.url));

export type Bundle = { ok: true; js: string } | { ok: false; reason: string };

async function buildFromSource(): Promise<Bundle> {
  let esbuild: Esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    return { ok: false, reason: `no prebuilt ${CLIENT_BUNDLE_NAME} beside the executor and no esbuild to build it: run npm run build` };
  }
  const started = Date.now();
  const result = await esbuild.build({ ...clientBuildOptions(), write: false });
  const js = result.outputFiles[0]?.text ?? "";
  log.info({ ms: Date.now() - started, bytes: js.length }, "dashboard bundle built from source");
  return { ok: true, js };
}

/** The one esbuild configuration of the bundle, shared with scripts/build-server.ts. */
export function clientBuildOptions() {
  return {
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    platform: "browser" as const,
    format: "esm" as const,
    target: "es2022",
    minify: true,
    jsx: "automatic" as const,
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning" as const,
  };
}

let pending: Promise<Bundle> | undefined;

export function clientBundle(): Promise<Bundle> {
  pending ??= readFile(new URL(`./${CLIENT_BUNDLE_NAME}`, import.meta.url), "utf8").then(
    (js): Bundle => ({ ok: true, js }),
    () => buildFromSource(),
  );
  return pending;
}
