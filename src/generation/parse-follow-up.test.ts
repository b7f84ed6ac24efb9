import { describe, expect, it } from "vitest";
import { parseRequest, type ParseResult } from "./parse";
import type { ApiPlan } from "./plan";
import { BOOKSTORE, conversationPlan, planFrom } from "./testing/fixtures";

const v1 = planFrom(BOOKSTORE);

function next(message: string, previous: ApiPlan = v1): { plan: ApiPlan; changes: string[] } {
  const result = parseRequest(message, previous);
  if (!result.ok) throw new Error(`"${message}" failed:\n${result.reply}`);
  return result;
}

function failed(result: ParseResult): string {
  if (result.ok) throw new Error(`expected a failure, got changes ${JSON.stringify(result.changes)}`);
  return result.reply;
}

const names = (plan: ApiPlan) => plan.resources.map((r) => r.name);
const fieldNames = (plan: ApiPlan, resource: string) => plan.resources.find((r) => r.name === resource)?.fields.map((f) => f.name);

describe("follow-ups: adding", () => {
  it("adds a child resource that references its parent", () => {
    const { plan, changes } = next("add reviews (rating:int 1..5, body) to books");
    expect(plan.version).toBe(2);
    expect(plan.title).toBe("Bookstore API");
    expect(names(plan)).toEqual(["books", "authors", "reviews"]);
    expect(plan.resources[0]).toEqual(v1.resources[0]);
    expect(plan.resources[2]?.fields).toEqual([
      { name: "rating", type: "int", optional: false, unique: false, min: 1, max: 5 },
      { name: "body", type: "string", optional: false, unique: false },
      { name: "bookId", type: "ref", optional: false, unique: false, ref: "books" },
    ]);
    expect(changes).toEqual(["Added resource reviews belonging to books: rating:int 1..5, body, book -> books"]);
  });

  it("does not add a second link when the child already references the parent", () => {
    const { plan } = next("add reviews (rating:int, book -> books) to books");
    expect(fieldNames(plan, "reviews")).toEqual(["rating", "bookId"]);
  });

  it("links children of multi-word parents with a camelCase id", () => {
    const blog = planFrom("blog_posts (title)");
    expect(fieldNames(next("add comments (body) to blog_posts", blog).plan, "comments")).toEqual(["body", "blogPostId"]);
  });

  it.each([
    ["add fields (pages:int, subtitle?) to books", ["pages", "subtitle"]],
    ["add pages:int to books", ["pages"]],
    ["add pages:int and subtitle? to the books resource", ["pages", "subtitle"]],
    ["Please add an optional subtitle field to books.", ["subtitle"]],
    ["add status:enum(draft|live) to book", ["status"]],
    ["add publisher -> authors? to books", ["publisherId"]],
    ["please add a new field called stock:int 0.. to books too", ["stock"]],
    ["Add Pages:Int To BOOKS!", ["pages"]],
  ])("adds fields: %s", (message, added) => {
    const { plan, changes } = next(message);
    expect(fieldNames(plan, "books")).toEqual([...(fieldNames(v1, "books") ?? []), ...added]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatch(/^Added .* to books$/);
  });

  it("adds described resources", () => {
    const { plan, changes } = next("also publishers (name, country?)");
    expect(names(plan)).toEqual(["books", "authors", "publishers"]);
    expect(changes).toEqual(["Added resource publishers: name, country?"]);
  });

  it("lets new resources be referenced in the same message", () => {
    const { plan } = next("add publishers (name) and add publisher -> publishers to books");
    expect(plan.resources[0]?.fields.at(-1)).toEqual({
      name: "publisherId",
      type: "ref",
      optional: false,
      unique: false,
      ref: "publishers",
    });
  });

  it("redefines an existing resource and lists the differences", () => {
    const { plan, changes } = next("authors (name unique, born:date?)");
    expect(fieldNames(plan, "authors")).toEqual(["name", "born"]);
    expect(changes).toEqual(["Changed authors: added born:date?; removed bio; changed name unique"]);
  });
});

describe("follow-ups: removing and renaming", () => {
  it("removes a field", () => {
    const { plan, changes } = next("remove bio from authors");
    expect(fieldNames(plan, "authors")).toEqual(["name"]);
    expect(changes).toEqual(["Removed bio from authors"]);
  });

  it("removes a reference field by the name users say", () => {
    expect(fieldNames(next("remove the author field from books").plan, "books")).not.toContain("authorId");
  });

  it("removes a field named without its resource when only one resource has it", () => {
    expect(fieldNames(next("remove isbn").plan, "books")).not.toContain("isbn");
  });

  it("removes a resource that nothing references", () => {
    const withReviews = next("add reviews (body) to books").plan;
    const { plan, changes } = next("delete the reviews resource", withReviews);
    expect(names(plan)).toEqual(["books", "authors"]);
    expect(changes).toEqual(["Removed resource reviews"]);
  });

  it("removes resources that only reference each other, together", () => {
    const { plan } = next("remove books and authors, also notes (body)");
    expect(names(plan)).toEqual(["notes"]);
  });

  it("renames a field, and a reference keeps its Id suffix", () => {
    expect(next("rename bio to biography in authors").plan.resources[1]?.fields[1]?.name).toBe("biography");
    const { plan, changes } = next("rename author to writer in books");
    expect(plan.resources[0]?.fields[1]).toMatchObject({ name: "writerId", ref: "authors" });
    expect(changes).toEqual(["Renamed authorId to writerId in books"]);
  });

  it("renames a resource and updates references to it", () => {
    const { plan, changes } = next("rename authors to writers");
    expect(names(plan)).toEqual(["books", "writers"]);
    expect(plan.resources[1]?.singular).toBe("writer");
    expect(plan.resources[0]?.fields[1]).toMatchObject({ ref: "writers" });
    expect(changes).toEqual(["Renamed resource authors to writers"]);
  });

  it("renames the API", () => {
    expect(next('rename the API to "Shelf"').plan.title).toBe("Shelf");
    expect(next("call it Library API").changes).toEqual(['Renamed the API from "Bookstore API" to "Library API"']);
  });

  it("applies several commands in order and bumps the version once", () => {
    const { plan, changes } = next("add reviews (rating:int 1..5) to books, then remove bio from authors; rename isbn to code in books");
    expect(plan.version).toBe(2);
    expect(changes).toHaveLength(3);
  });
});

describe("follow-ups: problems", () => {
  it.each([
    ["an unknown parent", "add reviews (body) to movies", /There is no resource "movies" to add reviews to\. Resources: books, authors/],
    ["an unknown field", "remove age from authors", /authors has no field "age"\. Its fields: name, bio/],
    ["an existing field", "add isbn to books", /books already has "isbn"/],
    ["an existing child", "add authors (x) to books", /authors already exists/],
    ["a referenced resource", "remove authors", /authors can't be removed while books\.author refers to it/],
    ["the last field", "remove name and bio from authors", /without fields; to drop the whole resource/],
    ["an unknown name", "remove ghosts", /There is no resource or field called "ghosts"/],
    ["a rename onto an existing field", "rename bio to name in authors", /already has a field "name"/],
    ["a rename onto an existing resource", "rename authors to books", /There already is a resource books/],
    ["no change", "authors (name, bio?)", /doesn't change the API/],
    ["several targets", "add tags (name) to books and authors", /which one resource to add to/],
    ["chit-chat", "thanks, looks great!", /couldn't find a change to the API/],
    ["an unknown reference in an added field", "add editor -> editors to books", /refers to "editors"/],
  ])("reports %s", (_label, message, pattern) => {
    const reply = failed(parseRequest(message, v1));
    expect(reply).toMatch(pattern);
    expect(reply).toContain('The current API is "Bookstore API" (v1: books, authors)');
  });

  it("reports an ambiguous field name and asks which resource", () => {
    const plan = planFrom("books (name) and authors (name)");
    expect(failed(parseRequest("remove name", plan))).toMatch(/"name" is a field of books and authors; say which/);
  });

  it("leaves the previous plan untouched", () => {
    const before = structuredClone(v1);
    next("remove bio from authors");
    next("rename authors to writers");
    failed(parseRequest("remove authors", v1));
    expect(v1).toEqual(before);
  });
});

describe("a longer conversation", () => {
  it("keeps every earlier resource and counts versions", () => {
    const plan = conversationPlan();
    expect(plan.version).toBe(7);
    expect(names(plan)).toEqual(["books", "authors", "reviews", "publishers"]);
    expect(fieldNames(plan, "books")).toEqual(["title", "authorId", "isbn", "price", "published", "pages", "tagline", "publisherId"]);
    expect(fieldNames(plan, "authors")).toEqual(["name"]);
  });
});
