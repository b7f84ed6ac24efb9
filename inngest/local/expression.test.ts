import { describe, expect, it } from "vitest";
import { compileExpression } from "./expression";

const run = { data: { runId: "r1", n: 3, nested: { tag: "a" } } };

describe("expressions", () => {
  it.each([
    ["event.data.runId == async.data.runId", { event: run, async: { data: { runId: "r1" } } }, true],
    ["event.data.runId == async.data.runId", { event: run, async: { data: { runId: "r2" } } }, false],
    ["event.data.missing == async.data.missing", { event: run, async: { data: {} } }, false],
    ["event.data.n > 2 && event.data.nested.tag == 'a'", { event: run }, true],
    ["event.data.n > 5 || event.data['runId'] != \"r1\"", { event: run }, false],
    ["!(event.data.n == 3)", { event: run }, false],
    ["event.data.n + 1", { event: run }, 4],
    ["event.data.runId + '-' + event.data.nested.tag", { event: run }, "r1-a"],
    ["event.data.function_id == 'test-app-fn'", { event: { data: { function_id: "test-app-fn" } } }, true],
  ])("%s", (source, scope, expected) => {
    expect(compileExpression(source, ["event", "async"]).evaluate(scope)).toEqual(expected);
  });

  it.each([
    ["async.data.x == 1", 'unknown name "async"'],
    ["event.data.tags.exists(t, t == 'a')", "function calls are not supported"],
    ["event.data.x ==", "unexpected end"],
    ["event.data.x = 1", 'unsupported character "="'],
    ["size(event.data)", 'unknown name "size"'],
  ])("refuses %s", (source, message) => {
    expect(() => compileExpression(source, ["event"])).toThrow(message);
  });
});
