import ts from "typescript";
import * as zod from "zod";
import type { GeneratedFile } from "../codegen";

export type Handler = (req: Request) => Promise<Response>;

/**
 * Run generated code in-process, so tests can send real Requests to it: each file is transpiled
 * to CommonJS and evaluated with a `require` that serves "zod" and the other generated files.
 */
export function loadGeneratedHandler(files: readonly GeneratedFile[]): Handler {
  const sources = new Map(files.map((f) => [`./${f.path.replace(/\.ts$/, "")}`, f.content]));
  const modules = new Map<string, Record<string, unknown>>();
  const load = (specifier: string): Record<string, unknown> => {
    if (specifier === "zod") return zod;
    const cached = modules.get(specifier);
    if (cached !== undefined) return cached;
    const source = sources.get(specifier);
    if (source === undefined) throw new Error(`generated code imports unknown module ${specifier}`);
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const exports: Record<string, unknown> = {};
    modules.set(specifier, exports);
    // Test-only loader of the generated TypeScript (compiled above): running it is the point.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const run = new Function("require", "exports", js) as (require: (s: string) => unknown, exports: Record<string, unknown>) => void;
    run(load, exports);
    return exports;
  };
  const createHandler = load("./routes")["createHandler"];
  if (typeof createHandler !== "function") throw new Error("routes.ts does not export createHandler");
  return (createHandler as () => Handler)();
}

/** Small client for the generated handler: JSON in, status and parsed JSON out. */
export function client(handler: Handler) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const response = await handler(new Request(`http://test.local${path}`, init));
    const text = await response.text();
    return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined };
  };
}
