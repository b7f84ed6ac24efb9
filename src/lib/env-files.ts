import nextEnv from "@next/env";

export interface LoadedEnvFiles {
  /** The files read, in precedence order (highest first), relative to the project directory. */
  files: string[];
}

/**
 * Loads `.env`, `.env.local`, `.env.<mode>`, `.env.<mode>.local` into process.env with Next's own
 * loader (`@next/env`), so the app server, the embedded executor and `next build` read the same files
 * with the same precedence: variables already in the environment win, then `.env.<mode>.local`,
 * `.env.local` (not in test), `.env.<mode>`, `.env`; mode is production under NODE_ENV=production,
 * test under NODE_ENV=test, else development. Idempotent: @next/env reads the files once per process.
 */
export function loadEnvFiles(dir: string = process.cwd()): LoadedEnvFiles {
  // Next's loader reports through console.info; the caller logs the files with the app's logger instead.
  const quiet = { info: () => undefined, error: (...args: unknown[]) => console.error(...args) };
  const result = nextEnv.loadEnvConfig(dir, process.env.NODE_ENV !== "production", quiet);
  return { files: result.loadedEnvFiles.map((f) => f.path) };
}
