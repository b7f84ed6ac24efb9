import { describe, expect, it } from "vitest";
import { parseField, parseFieldList, splitFieldList } from "./fields";
import type { FieldPlan } from "./plan";

function field(text: string): FieldPlan | null {
  const result = parseField(text, "things");
  if (!result.ok) throw new Error(result.error);
  return result.field;
}

function error(text: string): string {
  const result = parseField(text, "things");
  if (result.ok) throw new Error(`expected "${text}" to fail, got ${JSON.stringify(result.field)}`);
  return result.error;
}

const plain = { optional: false, unique: false };

describe("parseField", () => {
  it.each<[string, FieldPlan]>([
    ["title", { name: "title", type: "string", ...plain }],
    ["  Title  ", { name: "title", type: "string", ...plain }],
    ["bio?", { name: "bio", type: "string", optional: true, unique: false }],
    ["bio:string?", { name: "bio", type: "string", optional: true, unique: false }],
    ["optional bio", { name: "bio", type: "string", optional: true, unique: false }],
    ["isbn unique", { name: "isbn", type: "string", optional: false, unique: true }],
    ["unique email", { name: "email", type: "string", optional: false, unique: true }],
    ["price:number", { name: "price", type: "number", ...plain }],
    ["price : Number", { name: "price", type: "number", ...plain }],
    ["price:float", { name: "price", type: "number", ...plain }],
    ["price number", { name: "price", type: "number", ...plain }],
    ["pages:integer", { name: "pages", type: "int", ...plain }],
    ["done:bool", { name: "done", type: "boolean", ...plain }],
    ["published:date", { name: "published", type: "date", ...plain }],
    ["published date", { name: "published", type: "date", ...plain }],
    ["createdAt:timestamp", { name: "createdAt", type: "datetime", ...plain }],
    ["at:date-time?", { name: "at", type: "datetime", optional: true, unique: false }],
    ["rating:int 1..5", { name: "rating", type: "int", ...plain, min: 1, max: 5 }],
    ["rating:int min 1 max 5", { name: "rating", type: "int", ...plain, min: 1, max: 5 }],
    ["temp:number -40.5..60", { name: "temp", type: "number", ...plain, min: -40.5, max: 60 }],
    ["stock:int 0..", { name: "stock", type: "int", ...plain, min: 0 }],
    ["discount:number ..0.5", { name: "discount", type: "number", ...plain, max: 0.5 }],
    ["name:string 1..80", { name: "name", type: "string", ...plain, min: 1, max: 80 }],
    ["name 1..80 unique", { name: "name", type: "string", optional: false, unique: true, min: 1, max: 80 }],
    ["status:enum(draft|published|archived)", { name: "status", type: "enum", ...plain, values: ["draft", "published", "archived"] }],
    ["status enum(draft, published)?", { name: "status", type: "enum", optional: true, unique: false, values: ["draft", "published"] }],
    ["author -> authors", { name: "authorId", type: "ref", ...plain, ref: "authors" }],
    ["author->authors", { name: "authorId", type: "ref", ...plain, ref: "authors" }],
    ["author → Authors", { name: "authorId", type: "ref", ...plain, ref: "Authors" }],
    ["author? -> authors", { name: "authorId", type: "ref", optional: true, unique: false, ref: "authors" }],
    ["author -> authors? unique", { name: "authorId", type: "ref", optional: true, unique: true, ref: "authors" }],
    ["author_id -> authors", { name: "author_id", type: "ref", ...plain, ref: "authors" }],
    ["first-name", { name: "firstName", type: "string", ...plain }],
    ["an isbn field", { name: "isbn", type: "string", ...plain }],
    ["a rating:int 1..5 field", { name: "rating", type: "int", ...plain, min: 1, max: 5 }],
    ["bio.", { name: "bio", type: "string", ...plain }],
    ["field", { name: "field", type: "string", ...plain }],
    ["new:boolean", { name: "new", type: "boolean", ...plain }],
    ["a new field called stock:int 0..", { name: "stock", type: "int", ...plain, min: 0 }],
    ["field unique", { name: "field", type: "string", optional: false, unique: true }],
    ["the date", { name: "date", type: "string", ...plain }],
    ["column date", { name: "column", type: "date", ...plain }],
  ])("%j", (text, expected) => {
    expect(field(text)).toEqual(expected);
  });

  it("ignores an explicit id, which is always generated", () => {
    expect(field("id")).toBeNull();
    expect(field("ID:int")).toBeNull();
  });

  it("rejects an unknown type, naming the field and the accepted types", () => {
    const message = error("price:money");
    expect(message).toContain('Field "price" in things');
    expect(message).toContain('"money"');
    expect(message).toContain("string (the default), number, int, boolean, date, datetime, enum(a|b|c)");
  });

  it("suggests a reference when the type looks like a resource", () => {
    expect(error("author:authors")).toContain('"author -> authors"');
  });

  it.each([
    ["first name", /Field names are one word/],
    ["price: ", /":" must be followed by a type/],
    ["author ->", /"->" must be followed by a resource name/],
    ["status:enum", /enum needs its values in parentheses/],
    ["status:enum()", /enum\(\) needs values/],
    ["status:enum(a|a)", /distinct/],
    ["status:enum(a b|c$)", /can't read|may only use/],
    ["rating:int 5..1", /minimum 5 is above the maximum 1/],
    ["rating:int 1.5..3", /whole number/],
    ["name:string -1..3", /negative/],
    ["done:boolean 1..2", /ranges only apply to number, int and string/],
    ["price:number unique 1..2 extra", /I don't understand "extra"/],
    ["_secret", /must be a letter/],
    ["42", /does not start with a field name/],
    ["price:number %", /can't read/],
    ["a..b", /does not start with a field name|can't read/],
  ])("rejects %j", (text, pattern) => {
    expect(error(text)).toMatch(pattern);
  });
});

describe("field lists", () => {
  it("splits on commas, semicolons, new lines and 'and', never inside enum()", () => {
    expect(splitFieldList("a, b; c\nd and e & f, status:enum(x, y and z)")).toEqual([
      "a",
      "b",
      "c",
      "d",
      "e",
      "f",
      "status:enum(x, y and z)",
    ]);
    expect(splitFieldList(" , a,, ")).toEqual(["a"]);
  });

  it("parses a list and reports duplicates and bad fields together", () => {
    const result = parseFieldList("title, Title, price:money, isbn unique", "books");
    expect(result.fields.map((f) => f.name)).toEqual(["title", "isbn"]);
    expect(result.errors).toHaveLength(2);
    expect(result.errors[0]).toBe('Field "title" appears twice in books.');
    expect(result.errors[1]).toContain('unknown type "money"');
  });

  it("treats a reference and a field with its id name as duplicates", () => {
    expect(parseFieldList("author -> authors, authorId", "books").errors).toEqual(['Field "authorId" appears twice in books.']);
  });
});
