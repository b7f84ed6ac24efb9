/**
 * The README's "embedded grammar" examples really work: every message it shows is parsed here, with
 * the result the README says. A new example in the README's table without a case here fails, and so
 * does a grammar change that breaks one.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseRequest, type ParseResult } from "./parse";
import type { ApiPlan } from "./plan";
import { BOOKSTORE, planFrom } from "./testing/fixtures";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const start = readme.indexOf("## The planner");
const section = readme.slice(start, readme.indexOf("\n## ", start + 1));

function ok(result: ParseResult): { plan: ApiPlan; changes: string[] } {
  if (!result.ok) throw new Error(`expected a plan, got:\n${result.reply}`);
  return result;
}
const shape = (plan: ApiPlan) =>
  Object.fromEntries(
    plan.resources.map((r) => [
      r.name,
      r.fields.map((f) => `${f.name}${f.type === "ref" ? `->${f.ref}` : `:${f.type}`}${f.optional ? "?" : ""}${f.unique ? " unique" : ""}`),
    ]),
  );

const bookstore = planFrom(BOOKSTORE);
const withReviews = planFrom("add reviews (rating:int 1..5, body) to books", bookstore);

/** Each follow-up of the README's table, the plan it is sent to, and the changes it makes. */
const FOLLOW_UPS: Record<string, { to: ApiPlan; changes: string[] }> = {
  "add pages:int, subtitle? to books": { to: bookstore, changes: ["Added pages:int, subtitle? to books"] },
  "Please add an optional subtitle field to books.": { to: bookstore, changes: ["Added subtitle? to books"] },
  "add reviews (rating:int 1..5, body) to books": {
    to: bookstore,
    changes: ["Added resource reviews belonging to books: rating:int 1..5, body, book -> books"],
  },
  "also publishers (name, country?)": { to: bookstore, changes: ["Added resource publishers: name, country?"] },
  "remove bio from authors": { to: bookstore, changes: ["Removed bio from authors"] },
  "remove reviews": { to: withReviews, changes: ["Removed resource reviews"] },
  "rename bio to biography in authors": { to: bookstore, changes: ["Renamed bio to biography in authors"] },
  "rename authors to writers": { to: bookstore, changes: ["Renamed resource authors to writers"] },
  "rename the API to Book Shop": { to: bookstore, changes: ['Renamed the API from "Bookstore API" to "Book Shop"'] },
  "add pages:int to books, then rename bio to about in authors": {
    to: bookstore,
    changes: ["Added pages:int to books", "Renamed bio to about in authors"],
  },
};

describe("README: the embedded grammar", () => {
  it("shows the first message, and it gives the bookstore", () => {
    const block = /```\n(A bookstore API[^\n]*)\n```/.exec(section)?.[1];
    expect(block).toBe(BOOKSTORE);
    const { plan } = ok(parseRequest(block ?? ""));
    expect(plan.title).toBe("Bookstore API");
    expect(shape(plan)).toEqual({
      books: ["title:string", "authorId->authors", "isbn:string unique", "price:number", "published:date"],
      authors: ["name:string", "bio:string?"],
    });
  });

  it("has a case here for every follow-up of its table", () => {
    const table = section.slice(section.indexOf("| message | change |"));
    const rows = table.split("\n").filter((line) => line.startsWith("| `"));
    const messages = rows.flatMap((row) => [...(row.split("|")[1] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ""));
    expect(messages.sort()).toEqual(Object.keys(FOLLOW_UPS).sort());
  });

  it.each(Object.entries(FOLLOW_UPS))("%j", (message, { to, changes }) => {
    const result = ok(parseRequest(message, to));
    expect(result.changes).toEqual(changes);
    expect(result.plan.version).toBe(to.version + 1);
  });

  it("reads the relations it shows", () => {
    const todo = "users have lists and each list has tasks with a due date and a done flag";
    expect(section.replace(/\s+/g, " ")).toContain(todo);
    expect(shape(ok(parseRequest(todo)).plan)).toEqual({
      users: ["name:string"],
      lists: ["name:string", "userId->users"],
      tasks: ["dueDate:date", "done:boolean", "listId->lists"],
    });
    const tickets = "events have tickets with a start time, a price, an optional seat and a unique code";
    expect(section.replace(/\s+/g, " ")).toContain(tickets);
    expect(shape(ok(parseRequest(tickets)).plan)).toEqual({
      events: ["name:string"],
      tickets: ["startTime:datetime", "price:number", "seat:string?", "code:string unique", "eventId->events"],
    });
    expect(section).toContain('"each task has a title and a done flag"');
    expect(shape(ok(parseRequest("users have lists. each list has tasks. each task has a title and a done flag")).plan).tasks).toEqual([
      "listId->lists",
      "title:string",
      "done:boolean",
    ]);
  });

  it("answers, never applies, a message describing another API, in the words it quotes", () => {
    const message = "I need a REST API for a todo app where users have lists and each list has tasks with a due date and a done flag";
    const result = parseRequest(message, bookstore);
    expect(result.ok).toBe(false);
    const quoted = 'That describes a new API ("Todo App API"), but this project\'s API is "Bookstore API"';
    expect(result.ok ? "" : result.reply).toContain(quoted);
    expect(section.replace(/\s+/g, " ")).toContain(quoted);
  });
});
