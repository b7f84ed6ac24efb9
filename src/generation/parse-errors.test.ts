import { describe, expect, it } from "vitest";
import { FIRST_EXAMPLE } from "./help";
import { MAX_MESSAGE_LENGTH, parseRequest, type ParseResult } from "./parse";
import type { ApiPlan } from "./plan";
import { BOOKSTORE, planFrom } from "./testing/fixtures";

function failed(result: ParseResult): { understood: string[]; reply: string } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.plan)}`);
  return result;
}

describe("parseRequest: messages it cannot use", () => {
  it.each([
    ["empty", "", /Your message is empty/],
    ["whitespace", "   \n\t ", /Your message is empty/],
    ["a greeting", "hello", /couldn't find an API description in "hello"/],
    ["a vague wish", "make it good", /couldn't find an API description/],
    ["gibberish", "asdf qwer zxcv !!! ???", /couldn't find an API description/],
    ["a title only", "A bookstore API", /couldn't find any resources/],
  ])("%s: replies with an example instead of throwing", (_label, message, pattern) => {
    const result = failed(parseRequest(message));
    expect(result.reply).toMatch(pattern);
    expect(result.reply).toContain(FIRST_EXAMPLE);
    expect(result.reply).toContain("rating:int 1..5");
  });

  it("reports what it did understand", () => {
    const result = failed(parseRequest("A bookstore API"));
    expect(result.understood).toEqual(["title: Bookstore API"]);
    expect(result.reply).toContain("What I understood:\n- title: Bookstore API");
  });

  it("names the field and the accepted types for an unknown type", () => {
    const result = failed(parseRequest("A bookstore API with books (title, price:money) and authors (name)"));
    expect(result.reply).toContain('Field "price" in books has an unknown type "money"');
    expect(result.reply).toContain("number, int, boolean, date, datetime, enum(a|b|c)");
    expect(result.understood).toEqual(["title: Bookstore API", "resource authors (name)"]);
  });

  it("names an unknown reference target and the known resources", () => {
    const result = failed(parseRequest("books (title, author -> writers) and authors (name)"));
    expect(result.reply).toContain(
      'Field "author" in books refers to "writers", which is not a resource of this API (resources: books, authors)',
    );
    expect(result.understood).toContain("resource books (title, author -> writers)");
  });

  it.each([
    ["unclosed", "books (title, author", /never closed/],
    ["stray closing", "books title) and authors (name)", /without a matching "\("/],
    ["closing before opening", ")books (", /without a matching/],
  ])("reports unbalanced parentheses: %s", (_label, message, pattern) => {
    expect(failed(parseRequest(message)).reply).toMatch(pattern);
  });

  it("reports duplicate fields, also via a reference's id name", () => {
    expect(failed(parseRequest("books (title, isbn, Title)")).reply).toContain('Field "title" appears twice in books.');
    expect(failed(parseRequest("books (author -> authors, authorId) and authors (name)")).reply).toContain('"authorId" appears twice');
  });

  it("reports every problem at once", () => {
    const reply = failed(parseRequest("books (price:money, a, a) and authors (born:when)")).reply;
    expect(reply).toContain("I couldn't build the API:");
    expect(reply).toContain('unknown type "money"');
    expect(reply).toContain('"a" appears twice');
    expect(reply).toContain('unknown type "when"');
  });

  it.each([
    ["a resource described twice", "books (title) and books (isbn)", /books is described twice/],
    ["a field list without a resource", "(title, isbn)", /without a resource name before it/],
    ["a field list after 'API'", "A bookstore API (title)", /without a resource name before it/],
    ["empty parentheses", "books ()", /books has no fields/],
    ["a two-word field name", "authors (first name)", /Field names are one word/],
    ["a bad range", "reviews (rating:int 5..1)", /minimum 5 is above the maximum 1/],
    ["a range on a boolean", "tasks (done:boolean 0..1)", /ranges only apply/],
    ["an enum without values", "posts (status:enum())", /needs values/],
    ["a name that collides with generated ones", "errors (message)", /would generate the name Error/],
    ["a resource with only an id", "books (id)", /books has no fields/],
    ["an 'add' without a target or fields", "add", /didn't understand what to add/],
    ["a bad rename", "rename", /didn't understand "rename"/],
  ])("rejects %s", (_label, message, pattern) => {
    expect(failed(parseRequest(message)).reply).toMatch(pattern);
  });

  it("rejects follow-up commands without a previous plan", () => {
    expect(failed(parseRequest("remove bio from authors")).reply).toMatch(/There is no resource "authors"/);
    expect(failed(parseRequest("add pages:int to books")).reply).toMatch(/There is no resource "books"/);
  });

  it("rejects a message that is too long", () => {
    const reply = failed(parseRequest(`books (title) ${"x".repeat(MAX_MESSAGE_LENGTH)}`)).reply;
    expect(reply).toMatch(/too long/);
  });

  it("handles pathological input quickly", () => {
    const started = performance.now();
    for (const message of [
      "(".repeat(5000),
      "a ".repeat(9000),
      `books (${"x, ".repeat(3000)})`,
      `${"add ".repeat(2000)}to books`,
      "..".repeat(5000),
    ]) {
      expect(parseRequest(message).ok).toBe(false);
    }
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("keeps the reply short when there are many problems", () => {
    const reply = failed(parseRequest(`books (${Array.from({ length: 40 }, (_v, i) => `f${i}:money`).join(", ")})`)).reply;
    expect(reply).toContain("- …and 28 more");
    expect(reply.length).toBeLessThan(4000);
  });

  it("is not fooled by Object.prototype names", () => {
    expect(failed(parseRequest("books (x:constructor, y:toString)")).reply).toContain('unknown type "constructor"');
    const plan = planFrom("constructors (name) and prototypes (owner -> constructors, hasOwnProperty:boolean)");
    expect(plan.resources.map((r) => r.singular)).toEqual(["constructor", "prototype"]);
  });

  it("never throws, even for values outside the types", () => {
    expect(() => parseRequest(undefined as unknown as string)).not.toThrow();
    expect(parseRequest(42 as unknown as string).ok).toBe(false);
  });

  it("refuses to build on an invalid stored plan", () => {
    const broken = { ...planFrom(BOOKSTORE), version: 0 } satisfies ApiPlan;
    expect(failed(parseRequest("also publishers (name)", broken)).reply).toMatch(/stored plan is not valid/);
    const dangling: ApiPlan = {
      title: "X",
      version: 1,
      resources: [
        { name: "books", singular: "book", fields: [{ name: "authorId", type: "ref", optional: false, unique: false, ref: "authors" }] },
      ],
    };
    expect(failed(parseRequest("also publishers (name)", dangling)).reply).toMatch(/not a resource of this API/);
  });
});
