import { afterAll, describe, expect, it } from "vitest";
import { generateCode } from "./codegen";
import { BOOKSTORE, planFrom } from "./testing/fixtures";
import { TypeScriptChecker, checkTypeScript, typeScriptChecker } from "./typescript-checker";
import { validateTypeScript } from "./validate-typescript";

const broken = [{ path: "main.ts", content: "export const n: number = 'not a number';\n" }];

describe("checkTypeScript (worker thread)", () => {
  afterAll(() => typeScriptChecker.stop());

  it("answers exactly what the in-process check answers, and keeps its worker for the next check", async () => {
    const files = generateCode(planFrom(BOOKSTORE));
    expect(await checkTypeScript(files)).toEqual({ ok: true, diagnostics: 0 });
    expect(typeScriptChecker.running).toBe(true);
    const inProcess = validateTypeScript(broken);
    expect(inProcess.ok).toBe(false);
    expect(await checkTypeScript(broken)).toEqual(inProcess);
  });

  it("runs concurrent checks and answers each with its own result", async () => {
    const files = generateCode(planFrom(BOOKSTORE));
    const [a, b] = await Promise.all([checkTypeScript(files), checkTypeScript(broken)]);
    expect(a).toEqual({ ok: true, diagnostics: 0 });
    expect(b.ok).toBe(false);
  });

  it("ends its worker when idle and starts a new one for the next check", async () => {
    let exited!: () => void;
    let ended = new Promise<void>((resolve) => (exited = resolve));
    const checker = new TypeScriptChecker({ idleMs: 10, onWorkerExit: () => exited() });
    expect(checker.running).toBe(false);
    expect(await checker.check(broken, process.cwd())).toEqual(validateTypeScript(broken));
    await ended;
    expect(checker.running).toBe(false);
    ended = new Promise<void>((resolve) => (exited = resolve));
    expect(await checker.check(broken, process.cwd())).toEqual(validateTypeScript(broken));
    await checker.stop();
    await ended;
  });

  it("answers a check waiting on a stopped checker with a failure instead of hanging", async () => {
    const checker = new TypeScriptChecker({ idleMs: 60_000 });
    const waiting = checker.check(generateCode(planFrom(BOOKSTORE)), process.cwd());
    await checker.stop();
    expect(await waiting).toEqual({ ok: false, errors: ["The TypeScript check itself failed: the checker was stopped"] });
  });
});

describe("warmTypeScriptChecker", () => {
  it("starts the worker before any check, and the next check uses it", async () => {
    const checker = new TypeScriptChecker({ idleMs: 60_000 });
    checker.warm(process.cwd());
    expect(checker.running).toBe(true);
    checker.warm(process.cwd());
    expect(await checker.check(broken, process.cwd())).toEqual(validateTypeScript(broken));
    await checker.stop();
    expect(checker.running).toBe(false);
  });
});
