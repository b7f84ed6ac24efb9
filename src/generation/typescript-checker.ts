import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import type { GeneratedFile } from "./codegen";
import type { TypeScriptValidation } from "./validate-typescript";
import { errorMessage } from "../lib/errors";

/**
 * TypeScript checks off the main thread, in one worker started on demand and ended once idle. The
 * checker with its parsed lib files holds ~150-200 MB; kept warm in the app process it was the
 * largest part of an idle server. A check costs ~1 s more when the worker has to start (it parses the
 * standard library again), which a generation run absorbs; idle servers stay small.
 */

/** How long the worker outlives its last check: a conversation's next message reuses it warm. */
export const CHECKER_IDLE_MS = 60_000;

/**
 * The worker's heap: a small young generation keeps its peak ~25 MB lower (measured: ~155 -> ~133 MB
 * for one check) at a little GC time; the old-generation cap is a bound on a runaway check (its live
 * heap is ~60-90 MB), past which that one check fails instead of the process.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 512 };

const responseSchema = z.object({
  id: z.number(),
  result: z.union([
    z.object({ ok: z.literal(true), diagnostics: z.literal(0) }),
    z.object({ ok: z.literal(false), errors: z.array(z.string()) }),
  ]),
});

interface Pending {
  resolve: (result: TypeScriptValidation) => void;
}

/**
 * Where the worker's code is. Built (`npm run build` compiles server.ts and this worker into dist/,
 * and `npm start` runs dist/server.mjs): the compiled worker beside the running entry. From source
 * (`npm run dev`, tests, `tsx server.ts`): the new thread first compiles the TypeScript file with
 * esbuild (a dev dependency, present wherever the source runs) into node_modules/.cache, so its
 * imports resolve as from the project, then runs it. A TypeScript loader inside the worker would cost
 * seconds and ~30 MB; and the compile step is code the thread runs, so Next's bundler never sees esbuild.
 */
function workerSource(): { code: string; eval: boolean } {
  const entry = process.argv[1];
  const built =
    entry !== undefined && path.basename(path.dirname(entry)) === "dist" ? path.join(path.dirname(entry), "typescript-worker.mjs") : null;
  if (built !== null && existsSync(built)) return { code: built, eval: false };
  const root = process.cwd();
  const outfile = path.join(root, "node_modules", ".cache", "genstream", `typescript-worker-${process.pid}.mjs`);
  const options = {
    entryPoints: [path.join(root, "src", "generation", "typescript-worker.ts")],
    outfile,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  };
  return {
    code: `require("esbuild").buildSync(${JSON.stringify(options)}); import(${JSON.stringify(pathToFileURL(outfile).href)});`,
    eval: true,
  };
}

export interface TypeScriptCheckerOptions {
  idleMs: number;
  /** Called each time a worker has exited (ended when idle, stopped, or died). */
  onWorkerExit?: () => void;
}

export class TypeScriptChecker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TypeScriptCheckerOptions) {}

  check(files: readonly GeneratedFile[], rootDir: string): Promise<TypeScriptValidation> {
    clearTimeout(this.idleTimer);
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      worker.postMessage({ id, files: files.map((f) => ({ path: f.path, content: f.content })), rootDir });
    });
  }

  /**
   * Starts the worker, if it is not running, with a check of an empty file (it parses the standard
   * library): a run calls this when it starts, so its validate step finds the checker warm.
   */
  warm(rootDir: string): void {
    if (this.worker) return;
    void this.check([{ path: "warm-up.ts", content: "export {};\n" }], rootDir);
  }

  /** Ends the worker now; a check still waiting gets a failure (process exit needs none: the worker is unref'd). */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.fail(worker, "The TypeScript check itself failed: the checker was stopped");
    await worker.terminate();
  }

  get running(): boolean {
    return this.worker !== null;
  }

  private start(): Worker {
    const source = workerSource();
    const worker = new Worker(source.code, { eval: source.eval, resourceLimits: WORKER_LIMITS });
    // An idle checker must never keep a stopping process alive.
    worker.unref();
    worker.on("message", (message: unknown) => this.onMessage(message));
    worker.on("error", (error) => this.fail(worker, `The TypeScript check itself failed: ${errorMessage(error)}`));
    worker.on("exit", (code) => {
      this.fail(worker, `The TypeScript check itself failed: the checker exited (${code})`);
      this.options.onWorkerExit?.();
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(message: unknown): void {
    const parsed = responseSchema.safeParse(message);
    if (!parsed.success) return;
    const pending = this.pending.get(parsed.data.id);
    this.pending.delete(parsed.data.id);
    pending?.resolve(parsed.data.result);
    if (this.pending.size === 0) {
      this.idleTimer = setTimeout(() => void this.stop(), this.options.idleMs);
      this.idleTimer.unref();
    }
  }

  /** A dead worker answers every waiting check with the failure, and the next check starts a new one. */
  private fail(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    clearTimeout(this.idleTimer);
    for (const p of this.pending.values()) p.resolve({ ok: false, errors: [reason] });
    this.pending.clear();
  }
}

const CHECKER_KEY: unique symbol = Symbol.for("genstream.generation.typescriptChecker");

/** One checker per process (on globalThis: Next's module graphs and hot reload must not start several). */
function checker(): TypeScriptChecker {
  const holder = globalThis as typeof globalThis & { [CHECKER_KEY]?: TypeScriptChecker };
  holder[CHECKER_KEY] ??= new TypeScriptChecker({ idleMs: CHECKER_IDLE_MS });
  return holder[CHECKER_KEY];
}

/**
 * `validateTypeScript` in the checker's worker thread: same result, never throws, and the main
 * thread's event loop (streams, requests) keeps running during the check.
 */
export function checkTypeScript(files: readonly GeneratedFile[], options: { rootDir?: string } = {}): Promise<TypeScriptValidation> {
  return checker().check(files, options.rootDir ?? process.cwd());
}

/** Starts the checker's worker ahead of a check (a generation run does when it starts). */
export function warmTypeScriptChecker(options: { rootDir?: string } = {}): void {
  checker().warm(options.rootDir ?? process.cwd());
}

/** Whether the worker is alive, and ending it now: for tests. */
export const typeScriptChecker = {
  get running(): boolean {
    return checker().running;
  },
  stop: (): Promise<void> => checker().stop(),
};
