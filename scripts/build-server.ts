import { rmSync } from "node:fs";
import { build } from "esbuild";
import { CLIENT_BUNDLE_NAME, clientBuildOptions } from "../inngest/local/dashboard/assets";

/**
 * `npm run build`, after `next build`: compiles the processes `npm start` runs into dist/ so
 * production runs plain `node` — no TypeScript loader in the app (tsx's loader thread and its
 * esbuild service cost ~40 MB of RSS per process) and no dev dependency at run time. Our own code
 * is bundled; packages stay imports of node_modules, resolved at run time as from source.
 */
export const ENTRIES = {
  server: "server.ts",
  executor: "inngest/local/main.ts",
  migrate: "scripts/migrate.ts",
  // Started by src/generation/typescript-checker.ts beside the running entry (dist/).
  "typescript-worker": "src/generation/typescript-worker.ts",
} as const;

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: ENTRIES,
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
});
// The executor's dashboard (React) for the browser, read beside dist/executor.mjs (inngest/local/dashboard/assets.ts).
await build({ ...clientBuildOptions(), outfile: `dist/${CLIENT_BUNDLE_NAME}` });
console.log(`dist/: ${[...Object.keys(ENTRIES).map((name) => `${name}.mjs`), CLIENT_BUNDLE_NAME].join(", ")}`);
