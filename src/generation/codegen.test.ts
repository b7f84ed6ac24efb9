import { describe, expect, it } from "vitest";
import { generateCode } from "./codegen";
import type { ApiPlan } from "./plan";
import { BOOKSTORE, conversationPlan, planFrom, SAMPLE_MESSAGES } from "./testing/fixtures";
import { client, loadGeneratedHandler } from "./testing/load-generated";
import { validateTypeScript } from "./validate-typescript";

const plans: Record<string, ApiPlan> = {
  ...Object.fromEntries(Object.entries(SAMPLE_MESSAGES).map(([name, message]) => [name, planFrom(message)])),
  conversation: conversationPlan(),
};

describe("generateCode", () => {
  it("produces schemas.ts with zod and routes.ts with handlers", () => {
    const files = generateCode(planFrom(BOOKSTORE));
    expect(files.map((f) => f.path)).toEqual(["schemas.ts", "routes.ts"]);
    const [schemas, routes] = files.map((f) => f.content);
    expect(schemas).toContain('import { z } from "zod";');
    expect(schemas).toContain("export const BookInputSchema = z.strictObject({");
    expect(schemas).toContain("  published: z.iso.date(),");
    expect(schemas).toContain("  authorId: z.uuid(), // author -> authors");
    expect(schemas).toContain("  bio: z.string().optional(),");
    expect(schemas).toContain("export type Book = z.infer<typeof BookSchema>;");
    expect(routes).toContain('"GET /books": async () =>');
    expect(routes).toContain('"DELETE /authors/{id}"');
    expect(routes).toContain("export const handle = createHandler();");
  });

  it("keeps titles from breaking out of comments", () => {
    const plan: ApiPlan = { ...planFrom(BOOKSTORE), title: "Evil */ title\u2028export const x = 1;\nmore" };
    for (const file of generateCode(plan)) {
      expect(file.content.split("\n")[0]).toMatch(/^\/\/ .*Evil \*\/ title export const x = 1;\\nmore/);
      expect(file.content).not.toMatch(/^export const x/m);
    }
    expect(validateTypeScript(generateCode(plan))).toEqual({ ok: true, diagnostics: 0 });
  });

  it.each(Object.entries(plans))("compiles with zero diagnostics: %s", (_name, plan) => {
    expect(validateTypeScript(generateCode(plan))).toEqual({ ok: true, diagnostics: 0 });
  });
});

describe("the generated handlers, run in-process", () => {
  const api = () => client(loadGeneratedHandler(generateCode(conversationPlan())));
  const book = (authorId: string, extra: Record<string, unknown> = {}) => ({
    title: "Dune",
    authorId,
    isbn: "978-0441013593",
    price: 9.99,
    published: "1965-08-01",
    pages: 412,
    ...extra,
  });

  async function withAuthor() {
    const call = api();
    const author = await call("POST", "/authors", { name: "Frank Herbert" });
    expect(author.status).toBe(201);
    return { call, authorId: (author.body as { id: string }).id };
  }

  it("creates, lists, reads, updates and deletes", async () => {
    const { call, authorId } = await withAuthor();
    const created = await call("POST", "/books", book(authorId));
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), title: "Dune" });
    expect((await call("GET", "/books")).body).toHaveLength(1);
    expect((await call("GET", `/books/${id}`)).body).toEqual(created.body);
    const patched = await call("PATCH", `/books/${id}/`, { price: 12.5, tagline: "Fear is the mind-killer" });
    expect(patched).toMatchObject({ status: 200, body: { id, price: 12.5, title: "Dune", tagline: "Fear is the mind-killer" } });
    expect((await call("DELETE", `/books/${id}`)).status).toBe(204);
    expect((await call("GET", `/books/${id}`)).status).toBe(404);
  });

  it("answers 422 with issues for invalid input", async () => {
    const { call, authorId } = await withAuthor();
    const bad = await call("POST", "/books", book(authorId, { price: "cheap", published: "yesterday", extra: 1 }));
    expect(bad.status).toBe(422);
    const paths = (bad.body as { issues: Array<{ path: unknown[] }> }).issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["price", "published"]));
    expect((await call("POST", "/reviews", { rating: 6, body: "x", bookId: authorId })).status).toBe(422);
    expect((await call("POST", "/books", "{not json")).status).toBe(400);
    expect((await call("PATCH", `/authors/${authorId}`, { name: 42 })).status).toBe(422);
  });

  it("checks that references exist", async () => {
    const { call, authorId } = await withAuthor();
    const ghost = "00000000-0000-4000-8000-000000000000";
    const dangling = await call("POST", "/books", book(ghost));
    expect(dangling).toMatchObject({ status: 422, body: { code: "validation_failed", issues: [{ path: ["authorId"] }] } });
    expect((await call("POST", "/books", book(authorId, { publisherId: ghost }))).status).toBe(422);
    expect((await call("POST", "/books", book(authorId))).status).toBe(201);
  });

  it("enforces unique fields, on create and on update", async () => {
    const { call, authorId } = await withAuthor();
    expect((await call("POST", "/books", book(authorId))).status).toBe(201);
    const duplicate = await call("POST", "/books", book(authorId));
    expect(duplicate).toMatchObject({ status: 409, body: { code: "conflict", issues: [{ path: ["isbn"] }] } });
    const other = await call("POST", "/books", book(authorId, { isbn: "other" }));
    const otherId = (other.body as { id: string }).id;
    expect((await call("PATCH", `/books/${otherId}`, { isbn: "978-0441013593" })).status).toBe(409);
    expect((await call("PATCH", `/books/${otherId}`, { isbn: "other", title: "Same isbn as itself is fine" })).status).toBe(200);
  });

  it("refuses to delete items that are still referenced", async () => {
    const { call, authorId } = await withAuthor();
    const created = await call("POST", "/books", book(authorId));
    expect((await call("DELETE", `/authors/${authorId}`)).status).toBe(409);
    expect((await call("DELETE", `/books/${(created.body as { id: string }).id}`)).status).toBe(204);
    expect((await call("DELETE", `/authors/${authorId}`)).status).toBe(204);
  });

  it("answers 404 for unknown ids and paths, 405 for wrong methods", async () => {
    const call = api();
    expect((await call("GET", "/books/nope")).body).toMatchObject({ code: "not_found" });
    expect((await call("PATCH", "/books/nope", {})).status).toBe(404);
    expect((await call("DELETE", "/books/nope")).status).toBe(404);
    expect((await call("GET", "/nothing")).status).toBe(404);
    expect((await call("GET", "/books/%E0%A4%A")).status).toBe(404);
    expect((await call("PUT", "/books")).status).toBe(405);
  });

  it("works for awkward field names and self references", async () => {
    const awkward = client(loadGeneratedHandler(generateCode(plans["awkwardNames"] as ApiPlan)));
    const post = await awkward("POST", "/blog-posts", { class: "a", delete: true, constructor: "c", type: "b-c" });
    expect(post).toMatchObject({ status: 201, body: { class: "a", constructor: "c" } });
    const tree = client(loadGeneratedHandler(generateCode(plans["categories"] as ApiPlan)));
    const root = await tree("POST", "/categories", { name: "root" });
    const rootId = (root.body as { id: string }).id;
    expect((await tree("POST", "/categories", { name: "leaf", parentId: rootId })).status).toBe(201);
    expect((await tree("DELETE", `/categories/${rootId}`)).status).toBe(409);
  });
});
