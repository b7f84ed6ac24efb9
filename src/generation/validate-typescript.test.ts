import { describe, expect, it } from "vitest";
import { generateCode, type GeneratedFile } from "./codegen";
import { BOOKSTORE, conversationPlan, planFrom } from "./testing/fixtures";
import { validateTypeScript } from "./validate-typescript";

function errorsOf(files: GeneratedFile[]): string[] {
  const result = validateTypeScript(files);
  if (result.ok) throw new Error("expected diagnostics");
  return result.errors;
}

describe("validateTypeScript", () => {
  it("is fast after the first call (timings are logged)", () => {
    const files = generateCode(planFrom(BOOKSTORE));
    const timings: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      expect(validateTypeScript(files)).toEqual({ ok: true, diagnostics: 0 });
      timings.push(Math.round(performance.now() - started));
    }
    console.log(`validateTypeScript timings (ms), first then cached: ${timings.join(", ")}`);
    const [first = 0, ...rest] = timings;
    expect(Math.max(...rest)).toBeLessThan(Math.max(first, 1500));
  });

  it("accepts files in sub-directories and relative imports between them", () => {
    expect(
      validateTypeScript([
        { path: "lib/math.ts", content: "export const double = (n: number): number => n * 2;\n" },
        {
          path: "main.ts",
          content: 'import { z } from "zod";\nimport { double } from "./lib/math";\nexport const n = z.number().parse(double(2));\n',
        },
      ]),
    ).toEqual({ ok: true, diagnostics: 0 });
  });

  // Negative controls: the checker must fail on broken code, with "file(line,col): message".
  it("reports a type error with file, line and column", () => {
    const files = generateCode(planFrom(BOOKSTORE)).map((f) =>
      f.path === "routes.ts" ? { ...f, content: `${f.content}\nexport const broken: number = "x";\n` } : f,
    );
    const errors = errorsOf(files);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^routes\.ts\(\d+,14\): Type 'string' is not assignable to type 'number'\.$/);
  });

  it("reports a misuse of the generated schemas", () => {
    const [schemas] = generateCode(planFrom(BOOKSTORE));
    const misuse = 'import type { Book } from "./schemas";\nexport const b: Book = { id: "1", title: 1 };\n';
    expect(errorsOf([schemas as GeneratedFile, { path: "use.ts", content: misuse }]).join("\n")).toMatch(/^use\.ts\(2,/);
  });

  it.each([
    ["a syntax error", "export const = 1;", /a\.ts\(1,14\)/],
    ["an unknown module", 'import { x } from "./nope";\nexport const y = x;', /Cannot find module '\.\/nope'/],
    ["an unknown package", 'import { x } from "left-pad-9000";\nexport const y = x;', /Cannot find module 'left-pad-9000'/],
    ["Node globals (code must be framework-agnostic)", "export const env = process.env;", /Cannot find name 'process'/],
    ["an unused local", "const unused = 1;\nexport {};", /'unused' is declared but its value is never read/],
    ["an unchecked index", "const list: string[] = [];\nexport const first: string = list[0];", /'string \| undefined' is not assignable/],
    ["an implicit any", "export function f(x) { return x; }", /implicitly has an 'any' type/],
  ])("reports %s", (_label, content, pattern) => {
    expect(errorsOf([{ path: "a.ts", content }]).join("\n")).toMatch(pattern);
  });

  it.each([
    [[{ path: "../escape.ts", content: "" }], /relative path inside the project/],
    [[{ path: "/etc/passwd.ts", content: "" }], /relative path inside the project/],
    [[{ path: "", content: "" }], /\(empty path\)/],
    [[{ path: "README.md", content: "# hi" }], /no TypeScript files/],
    [[], /no TypeScript files/],
  ])("rejects unusable file lists %#", (files, pattern) => {
    expect(errorsOf(files).join("\n")).toMatch(pattern);
  });

  it("never throws, whatever the content", () => {
    expect(validateTypeScript([{ path: "x.ts", content: "\u0000\uFFFF`${" }]).ok).toBe(false);
    expect(validateTypeScript(null as unknown as GeneratedFile[]).ok).toBe(false);
  });

  it("caps the number of reported errors", () => {
    const content = Array.from({ length: 80 }, (_v, i) => `export const v${i}: number = "x";`).join("\n");
    const errors = errorsOf([{ path: "many.ts", content }]);
    expect(errors).toHaveLength(51);
    expect(errors.at(-1)).toBe("…and 30 more.");
  });

  it("checks a larger generated API", () => {
    expect(validateTypeScript(generateCode(conversationPlan()))).toEqual({ ok: true, diagnostics: 0 });
  });
});
