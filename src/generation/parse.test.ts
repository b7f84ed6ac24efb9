import { describe, expect, it } from "vitest";
import { parseRequest } from "./parse";
import { apiPlanSchema, type ApiPlan } from "./plan";
import { BOOKSTORE, planFrom, SAMPLE_MESSAGES } from "./testing/fixtures";

function fieldsOf(plan: ApiPlan, resource: string) {
  const found = plan.resources.find((r) => r.name === resource);
  if (found === undefined) throw new Error(`no resource ${resource} in ${plan.resources.map((r) => r.name).join(", ")}`);
  return found.fields;
}

describe("parseRequest: the bookstore example", () => {
  const result = parseRequest(BOOKSTORE);

  it("produces books and authors with the described fields", () => {
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const plan = result.plan;
    expect(plan.title).toBe("Bookstore API");
    expect(plan.version).toBe(1);
    expect(plan.resources.map((r) => [r.name, r.singular])).toEqual([
      ["books", "book"],
      ["authors", "author"],
    ]);
    expect(fieldsOf(plan, "books")).toEqual([
      { name: "title", type: "string", optional: false, unique: false },
      { name: "authorId", type: "ref", optional: false, unique: false, ref: "authors" },
      { name: "isbn", type: "string", optional: false, unique: true },
      { name: "price", type: "number", optional: false, unique: false },
      { name: "published", type: "date", optional: false, unique: false },
    ]);
    expect(fieldsOf(plan, "authors")).toEqual([
      { name: "name", type: "string", optional: false, unique: false },
      { name: "bio", type: "string", optional: true, unique: false },
    ]);
  });

  it("says what changed", () => {
    expect(result.ok && result.changes).toEqual([
      'Titled the API "Bookstore API"',
      "Added resource books: title, author -> authors, isbn unique, price:number, published:date",
      "Added resource authors: name, bio?",
    ]);
  });

  it("produces a plan that the stored-plan schema accepts, also after a JSON round trip", () => {
    if (!result.ok) throw new Error(result.reply);
    expect(apiPlanSchema.parse(JSON.parse(JSON.stringify(result.plan)))).toEqual(result.plan);
  });
});

describe("parseRequest: tolerant reading", () => {
  const same = planFrom(BOOKSTORE);

  it.each([
    [
      "upper case and extra whitespace",
      "A   BOOKSTORE API   with BOOKS ( title , Author -> Authors , isbn UNIQUE , price : number , published:date )   and   AUTHORS(name,bio?)",
    ],
    ["trailing punctuation", `${BOOKSTORE}.`],
    [
      "'the' and commas",
      "The bookstore API with the books (title, author -> authors, isbn unique, price:number, published:date), the authors (name, bio?)!",
    ],
    [
      "singular reference target",
      "A bookstore API with books (title, author -> author, isbn unique, price:number, published:date) and authors (name, bio?)",
    ],
    [
      "one resource per line",
      "Bookstore API\nbooks (title, author -> authors, isbn unique, price:number, published:date)\nauthors (name, bio?)",
    ],
    ["bullets", "Bookstore API:\n- books (title, author -> authors, isbn unique, price:number, published:date)\n- authors (name, bio?)"],
    [
      "'with fields'",
      "A bookstore API with books with fields (title, author -> authors, isbn unique, price:number, published:date) and authors having (name, bio?)",
    ],
    [
      "'create … to …'",
      "Create a bookstore API with books (title, author -> authors, isbn unique, price:number, published:date) and authors (name, bio?) to sell books online",
    ],
    [
      "'add' as the verb",
      "Create a bookstore API with books (title, author -> authors, isbn unique, price:number, published:date) and authors (name, bio?)",
    ],
    [
      "fields on several lines",
      "A bookstore API with books (\n  title,\n  author -> authors,\n  isbn unique,\n  price:number,\n  published:date\n) and authors (name, bio?)",
    ],
  ])("%s", (_label, message) => {
    expect(planFrom(message)).toEqual(same);
  });

  it("reads references to resources described later in the message", () => {
    expect(fieldsOf(planFrom("books (author -> authors) and authors (name)"), "books")[0]).toMatchObject({ ref: "authors" });
  });

  it("accepts singular resource names and pluralizes them", () => {
    const plan = planFrom("A library API with book (title) and category (name)");
    expect(plan.resources.map((r) => r.name)).toEqual(["books", "categories"]);
    expect(plan.resources.map((r) => r.singular)).toEqual(["book", "category"]);
  });

  it("defaults the title from the first resource", () => {
    expect(planFrom("tasks (title, done:boolean)").title).toBe("Tasks API");
    expect(planFrom("blog_posts (title)").title).toBe("Blog Posts API");
  });

  it("uses the 'API for …' phrase", () => {
    expect(planFrom("I need an API for a library: books (title), members (name, email unique)").title).toBe("Library API");
  });

  it("ignores an explicit id field", () => {
    expect(fieldsOf(planFrom("books (id, title)"), "books").map((f) => f.name)).toEqual(["title"]);
  });

  it("keeps self references", () => {
    expect(fieldsOf(planFrom("categories (name, parent -> categories?)"), "categories")[1]).toEqual({
      name: "parentId",
      type: "ref",
      optional: true,
      unique: false,
      ref: "categories",
    });
  });

  it.each(Object.entries(SAMPLE_MESSAGES))("parses the %s sample into a valid plan", (_name, message) => {
    const plan = planFrom(message);
    expect(apiPlanSchema.safeParse(plan).success).toBe(true);
    expect(plan.version).toBe(1);
  });

  it("reads every field type of the pet shop sample", () => {
    const plan = planFrom(SAMPLE_MESSAGES.petShop ?? "");
    expect(plan.title).toBe("Pet Shop API");
    expect(fieldsOf(plan, "pets").map((f) => `${f.name}:${f.type}`)).toEqual([
      "name:string",
      "species:enum",
      "born:date",
      "chip:string",
      "weight:number",
      "ownerId:ref",
    ]);
    expect(fieldsOf(plan, "owners")).toContainEqual({ name: "vip", type: "boolean", optional: false, unique: false });
  });

  it("is deterministic", () => {
    expect(parseRequest(SAMPLE_MESSAGES.todo ?? "")).toEqual(parseRequest(SAMPLE_MESSAGES.todo ?? ""));
  });
});
