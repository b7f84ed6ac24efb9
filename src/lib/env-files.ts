import nextEnv from "@next/env";

export interface LoadedEnvFiles {
  /** The files read, in precedence order (highest first), relative to the project directory. */
  files: string[];
  /** Files that could not be read or parsed (Next's loader skips them). */
  errors: string[];
}

let firstLoad: LoadedEnvFiles | undefined;

/**
 * Loads `.env`, `.env.local`, `.env.<mode>`, `.env.<mode>.local` into process.env with Next's own
 * loader (`@next/env`), so the app server, the embedded executor and `next build` read the same files
 * with the same precedence: variables already in the environment win, then `.env.<mode>.local`,
 * `.env.local` (not in test), `.env.<mode>`, `.env`; mode is production under NODE_ENV=production,
 * test under NODE_ENV=test, else development. Idempotent: @next/env reads the files once per process.
 */
export function loadEnvFiles(dir: string = process.cwd()): LoadedEnvFiles {
  // The first call's report, so the entry point that loads first can still log what happened.
  if (firstLoad) return firstLoad;
  // Next's loader reports to the console; the caller logs files and errors with the app's logger instead.
  const errors: string[] = [];
  const report = { info: () => undefined, error: (...args: unknown[]) => void errors.push(args.map(String).join(" ")) };
  const result = nextEnv.loadEnvConfig(dir, process.env.NODE_ENV !== "production", report);
  firstLoad = { files: result.loadedEnvFiles.map((f) => f.path), errors };
  return firstLoad;
}
