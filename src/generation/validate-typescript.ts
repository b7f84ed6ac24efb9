import { existsSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import type { GeneratedFile } from "./codegen";
import { errorMessage } from "../lib/errors";

export type TypeScriptValidation = { ok: true; diagnostics: 0 } | { ok: false; errors: string[] };

/** Strict like the project itself, plus the checks that catch sloppy generated code. */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitReturns: true,
  noImplicitOverride: true,
  noFallthroughCasesInSwitch: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  types: [], // no ambient @types/* from node_modules: faster, and the code must not rely on Node globals
  isolatedModules: true,
  skipLibCheck: true,
  noEmit: true,
};

const MAX_ERRORS = 50;

/**
 * Lib and zod declaration files never change while the server runs, and parsing them dominates
 * the cost of a check (lib.dom alone is ~1 MB), so parsed SourceFiles and file-system probes are
 * kept across calls. It lives on globalThis so hot reload doesn't leave copies behind.
 */
interface TsCache {
  sourceFiles: Map<string, ts.SourceFile>;
  fileExists: Map<string, boolean>;
  directoryExists: Map<string, boolean>;
  roots: Map<string, string>;
}

const CACHE_KEY: unique symbol = Symbol.for("genstream.generation.typescriptCache");

function tsCache(): TsCache {
  const holder = globalThis as typeof globalThis & { [CACHE_KEY]?: TsCache };
  holder[CACHE_KEY] ??= { sourceFiles: new Map(), fileExists: new Map(), directoryExists: new Map(), roots: new Map() };
  return holder[CACHE_KEY];
}

function memo<T>(map: Map<string, T>, key: string, compute: () => T): T {
  const known = map.get(key);
  if (known !== undefined) return known;
  const value = compute();
  map.set(key, value);
  return value;
}

/** The nearest directory from `start` upwards whose node_modules has zod: where `import "zod"` resolves. */
function projectRoot(start: string): string {
  return memo(tsCache().roots, start, () => {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (existsSync(path.join(dir, "node_modules", "zod", "package.json"))) return dir;
      if (path.dirname(dir) === dir) return start;
    }
  });
}

function createHost(virtualDir: string, virtualFiles: ReadonlyMap<string, string>): ts.CompilerHost {
  const cache = tsCache();
  const inVirtual = (p: string) => p === virtualDir || p.startsWith(virtualDir + path.sep) || p.startsWith(`${virtualDir}/`);
  return {
    getSourceFile(fileName, languageVersionOrOptions) {
      const virtual = virtualFiles.get(fileName);
      if (virtual !== undefined) return ts.createSourceFile(fileName, virtual, languageVersionOrOptions, true);
      const o = typeof languageVersionOrOptions === "object" ? languageVersionOrOptions : { languageVersion: languageVersionOrOptions };
      const key = `${fileName}|${o.languageVersion}|${o.impliedNodeFormat ?? ""}|${o.jsDocParsingMode ?? ""}`;
      const cached = cache.sourceFiles.get(key);
      if (cached !== undefined) return cached;
      const text = ts.sys.readFile(fileName);
      if (text === undefined) return undefined;
      const sourceFile = ts.createSourceFile(fileName, text, languageVersionOrOptions, false);
      cache.sourceFiles.set(key, sourceFile);
      return sourceFile;
    },
    getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
    writeFile: () => undefined,
    getCurrentDirectory: () => virtualDir,
    getCanonicalFileName: (fileName) => fileName,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    fileExists: (fileName) =>
      virtualFiles.has(fileName) || (!inVirtual(fileName) && memo(cache.fileExists, fileName, () => ts.sys.fileExists(fileName))),
    readFile: (fileName) => virtualFiles.get(fileName) ?? (inVirtual(fileName) ? undefined : ts.sys.readFile(fileName)),
    directoryExists: (dir) =>
      [...virtualFiles.keys()].some((f) => f.startsWith(dir + path.sep) || f.startsWith(`${dir}/`)) ||
      (!inVirtual(dir) && memo(cache.directoryExists, dir, () => ts.sys.directoryExists(dir))),
    getDirectories: (dir) => (inVirtual(dir) ? [] : ts.sys.getDirectories(dir)),
    realpath: (p) => (inVirtual(p) ? p : (ts.sys.realpath?.(p) ?? p)),
  };
}

function formatDiagnostic(diagnostic: ts.Diagnostic, virtualDir: string): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
  const file = diagnostic.file;
  if (file === undefined || diagnostic.start === undefined) return message;
  const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start);
  const name = path.relative(virtualDir, file.fileName).split(path.sep).join("/");
  return `${name}(${line + 1},${character + 1}): ${message}`;
}

function badPath(file: GeneratedFile): string | undefined {
  const normalized = path.posix.normalize(file.path);
  if (file.path.length === 0 || path.posix.isAbsolute(file.path) || path.win32.isAbsolute(file.path) || normalized.startsWith("..")) {
    return `${file.path || "(empty path)"}: generated files need a relative path inside the project.`;
  }
  return undefined;
}

/**
 * Type-check generated files with the TypeScript compiler, in memory: the files are served from a
 * virtual directory in the project root (so `import "zod"` resolves to the installed package),
 * everything else comes from disk. Never throws; returns "file(line,col): message" strings.
 */
export function validateTypeScript(files: readonly GeneratedFile[], options: { rootDir?: string } = {}): TypeScriptValidation {
  try {
    const problems = files.map(badPath).filter((p): p is string => p !== undefined);
    if (problems.length > 0) return { ok: false, errors: problems };
    const virtualDir = path.join(projectRoot(options.rootDir ?? process.cwd()), ".genstream-generated");
    const virtualFiles = new Map(files.map((f) => [path.join(virtualDir, path.posix.normalize(f.path)), f.content]));
    const rootNames = [...virtualFiles.keys()].filter((f) => /\.(ts|tsx|mts|cts)$/.test(f));
    if (rootNames.length === 0) return { ok: false, errors: ["There are no TypeScript files to check."] };

    const program = ts.createProgram({ rootNames, options: COMPILER_OPTIONS, host: createHost(virtualDir, virtualFiles) });
    const ownFiles = rootNames.map((f) => program.getSourceFile(f)).filter((f): f is ts.SourceFile => f !== undefined);
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...ownFiles.flatMap((f) => program.getSyntacticDiagnostics(f)),
      ...ownFiles.flatMap((f) => program.getSemanticDiagnostics(f)),
    ];
    if (diagnostics.length === 0) return { ok: true, diagnostics: 0 };
    const errors = diagnostics.slice(0, MAX_ERRORS).map((d) => formatDiagnostic(d, virtualDir));
    if (diagnostics.length > MAX_ERRORS) errors.push(`…and ${diagnostics.length - MAX_ERRORS} more.`);
    return { ok: false, errors };
  } catch (error) {
    return { ok: false, errors: [`The TypeScript check itself failed: ${errorMessage(error)}`] };
  }
}
