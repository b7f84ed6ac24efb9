import { describe, expect, it } from "vitest";
import { MODEL_HINT } from "./help";
import { naturalField } from "./natural";
import { parseRequest, type ParseResult } from "./parse";
import type { ApiPlan } from "./plan";
import { BOOKSTORE, planFrom } from "./testing/fixtures";

const TODO = "I need a REST API for a todo app where users have lists and each list has tasks with a due date and a done flag";

function ok(result: ParseResult): { plan: ApiPlan; changes: string[] } {
  if (!result.ok) throw new Error(`expected a plan, got:\n${result.reply}`);
  return result;
}
function reply(result: ParseResult): string {
  if (result.ok) throw new Error(`expected a reply, got ${JSON.stringify(result.plan)}`);
  return result.reply;
}
const shape = (plan: ApiPlan) =>
  Object.fromEntries(
    plan.resources.map((r) => [r.name, r.fields.map((f) => (f.type === "ref" ? `${f.name}->${f.ref}` : `${f.name}:${f.type}`))]),
  );

describe("the embedded default is honest about messages it cannot read", () => {
  it("issue 11: the todo message in a bookstore project never renames the bookstore", () => {
    const bookstore = planFrom("add reviews (rating:int 1..5, body) to books", planFrom(BOOKSTORE));
    const text = reply(parseRequest(TODO, bookstore));
    expect(text).toContain('That describes a new API ("Todo App API"), but this project\'s API is "Bookstore API"');
    expect(text).toContain("What I understood:\n- title: Todo App API\n- lists belonging to users");
    expect(text).toContain("add reviews (rating:int 1..5, body) to books"); // the grammar, with examples
    expect(text).toContain("LLM_BASE_URL");
  });

  it.each(["I need a REST API for a todo app", "Can you make something nice for my recipes?", "a bookstore API please", "hello there"])(
    "a follow-up with no change (%j) is a reply, never a renamed API",
    (message) => {
      const text = reply(parseRequest(message, planFrom(BOOKSTORE)));
      expect(text).toContain(MODEL_HINT);
    },
  );

  it("a first message it cannot read says what works and that a model takes free-form text", () => {
    const text = reply(parseRequest("Build an app to manage my recipes and their ingredients nicely"));
    expect(text).toContain("books (title, author -> authors");
    expect(text).toContain(MODEL_HINT);
  });

  it("stops a prose title at the clause that describes the contents", () => {
    expect(ok(parseRequest(TODO)).plan.title).toBe("Todo App API");
  });
});

describe("natural phrasing the grammar understands", () => {
  it("reads the issue's todo message as users, lists and tasks", () => {
    const { plan, changes } = ok(parseRequest(TODO));
    expect(shape(plan)).toEqual({
      users: ["name:string"],
      lists: ["name:string", "userId->users"],
      tasks: ["dueDate:date", "done:boolean", "listId->lists"],
    });
    expect(changes).toContain("Added resource users: name (the message names no fields for it, so it has a name)");
    expect(changes).toContain("Added resource tasks belonging to lists: dueDate:date, done:boolean, list -> lists");
  });

  it.each<[string, Record<string, string[]>]>([
    [
      "users have lists and each list has tasks with a due date and a done flag",
      { users: ["name:string"], lists: ["name:string", "userId->users"], tasks: ["dueDate:date", "done:boolean", "listId->lists"] },
    ],
    [
      "Users have many lists; every list has several tasks with a title, a due date and a done flag.",
      {
        users: ["name:string"],
        lists: ["name:string", "userId->users"],
        tasks: ["title:string", "dueDate:date", "done:boolean", "listId->lists"],
      },
    ],
    [
      "a blog where authors have posts with a title and a published date, and each post has comments with a body",
      {
        authors: ["name:string"],
        posts: ["title:string", "publishedDate:date", "authorId->authors"],
        comments: ["body:string", "postId->posts"],
      },
    ],
    [
      "A library API: each library has books with a title, an isbn and a price",
      { libraries: ["name:string"], books: ["title:string", "isbn:string", "price:number", "libraryId->libraries"] },
    ],
    [
      "customers can have orders with a total and a created at",
      { customers: ["name:string"], orders: ["total:number", "createdAt:datetime", "customerId->customers"] },
    ],
    [
      "each project contains tasks with title, an optional note and priority:int 1..3",
      { projects: ["name:string"], tasks: ["title:string", "note:string", "priority:int", "projectId->projects"] },
    ],
    ["teams have members with an email and an age", { teams: ["name:string"], members: ["email:string", "age:int", "teamId->teams"] }],
    [
      "users have lists. each list has tasks. each task has a title and a done flag",
      { users: ["name:string"], lists: ["name:string", "userId->users"], tasks: ["listId->lists", "title:string", "done:boolean"] },
    ],
    [
      "playlists have songs with a title and a play count",
      { playlists: ["name:string"], songs: ["title:string", "playCount:int", "playlistId->playlists"] },
    ],
  ])("%j", (message, expected) => {
    expect(shape(ok(parseRequest(message)).plan)).toEqual(expected);
  });

  it.each([
    "users have lists with a really very long weird name here",
    "it has everything",
    "the app has a nice design",
    "users have lists with emoji 🙂",
  ])("does not guess at %j", (message) => {
    expect(parseRequest(message).ok).toBe(false);
  });

  it("adds relations to an existing plan without touching what is there", () => {
    const bookstore = planFrom(BOOKSTORE);
    const { plan, changes } = ok(parseRequest("each book has reviews with a rating count and a body", bookstore));
    expect(plan.resources.slice(0, 2)).toEqual(bookstore.resources);
    expect(shape(plan).reviews).toEqual(["ratingCount:int", "body:string", "bookId->books"]);
    expect(changes).toEqual(["Added resource reviews belonging to books: ratingCount:int, body, book -> books"]);
    expect(plan.title).toBe("Bookstore API");
  });

  it.each<[string, string, boolean]>([
    ["a due date", "dueDate:date", false],
    ["an optional note", "note:string", true],
    ["a done flag", "done:boolean", false],
    ["the created at", "createdAt:datetime", false],
    ["a price", "price:number", false],
    ["a unit count", "unitCount:int", false],
    ["a start time", "startTime:datetime", false],
  ])("field %j", (phrase, expected, optional) => {
    const field = naturalField(phrase, "things");
    expect(field === undefined ? undefined : `${field.name}:${field.type}`).toBe(expected);
    expect(field?.optional).toBe(optional);
  });
});
