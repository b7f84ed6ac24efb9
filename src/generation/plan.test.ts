import { describe, expect, it } from "vitest";
import { apiPlanSchema, type ApiPlan, type FieldPlan } from "./plan";
import { BOOKSTORE, conversationPlan, planFrom } from "./testing/fixtures";

const base = planFrom(BOOKSTORE);

function withBooksField(field: FieldPlan): ApiPlan {
  const plan = structuredClone(base);
  plan.resources[0]?.fields.push(field);
  return plan;
}

function problems(value: unknown): string[] {
  const result = apiPlanSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => i.message);
}

const plain = { optional: false, unique: false };

describe("apiPlanSchema", () => {
  it("accepts parsed plans", () => {
    expect(problems(base)).toEqual([]);
    expect(problems(conversationPlan())).toEqual([]);
  });

  it.each([
    ["not an object", "plan", /expected object/i],
    ["a missing title", { version: 1, resources: base.resources }, /expected string/i],
    ["version 0", { ...base, version: 0 }, /too small|>=1/i],
    ["a fractional version", { ...base, version: 1.5 }, /int/i],
    [
      "an unknown field type",
      withBooksField({ name: "x", type: "money" as FieldPlan["type"], ...plain }),
      /invalid option|expected one of/i,
    ],
    ["an empty title", { ...base, title: " " }, /title must have/],
    ["no resources", { ...base, resources: [] }, /at least one resource/],
    ["a dangling reference", withBooksField({ name: "editorId", type: "ref", ...plain, ref: "editors" }), /refers to "editors"/],
    ["a reference without target", withBooksField({ name: "editorId", type: "ref", ...plain }), /needs a target/],
    ["an enum without values", withBooksField({ name: "state", type: "enum", ...plain, values: [] }), /at least one value/],
    ["an enum value with spaces", withBooksField({ name: "state", type: "enum", ...plain, values: ["a b"] }), /may only use/],
    ["values on a string", withBooksField({ name: "state", type: "string", ...plain, values: ["a"] }), /only enum fields/],
    ["a range on a date", withBooksField({ name: "on", type: "date", ...plain, min: 1 }), /ranges only apply/],
    ["an inverted range", withBooksField({ name: "n", type: "int", ...plain, min: 3, max: 1 }), /above the maximum/],
    ["an unsafe field name", withBooksField({ name: "a-b; drop", type: "string", ...plain }), /name must be a letter/],
    ["a field called id", withBooksField({ name: "id", type: "string", ...plain }), /added automatically/],
    ["a duplicate field", withBooksField({ name: "Title", type: "string", ...plain }), /appears twice/],
    ["an infinite bound", withBooksField({ name: "n", type: "number", ...plain, max: Number.POSITIVE_INFINITY }), /number|finite/i],
  ])("rejects %s", (_label, value, pattern) => {
    const found = problems(value);
    expect(found.join("\n")).toMatch(pattern);
  });

  it("rejects unsafe or colliding resource names", () => {
    const rename = (name: string, singular: string): ApiPlan => ({
      ...base,
      resources: [{ name, singular, fields: [{ name: "x", type: "string", ...plain }] }],
    });
    expect(problems(rename("Books", "book")).join()).toMatch(/lower-case/);
    expect(problems(rename("books/../x", "book")).join()).toMatch(/lower-case/);
    expect(problems(rename("errors", "error")).join()).toMatch(/would generate the name Error, already used by the generator/);
    const twice: ApiPlan = { ...base, resources: [...base.resources, structuredClone(base.resources[1] as ApiPlan["resources"][number])] };
    expect(problems(twice).join()).toMatch(/defined twice/);
    const clash: ApiPlan = {
      ...base,
      resources: [
        { name: "books", singular: "book", fields: [{ name: "x", type: "string", ...plain }] },
        { name: "book_inputs", singular: "book_input", fields: [{ name: "x", type: "string", ...plain }] },
      ],
    };
    expect(problems(clash).join()).toMatch(/BookInput, already used by books/);
  });
});
