import { describe, expect, it } from "vitest";
import { generateOpenApi } from "./openapi";
import type { OpenApiDocument } from "./openapi-types";
import { BOOKSTORE, conversationPlan, planFrom, SAMPLE_MESSAGES } from "./testing/fixtures";
import { validateOpenApi } from "./validate-openapi";

const bookstore = generateOpenApi(planFrom(BOOKSTORE));

describe("generateOpenApi", () => {
  it("describes the API and its CRUD paths", () => {
    expect(bookstore.openapi).toBe("3.1.0");
    expect(bookstore.info).toMatchObject({ title: "Bookstore API", version: "1.0.0" });
    expect(Object.keys(bookstore.paths)).toEqual(["/books", "/books/{id}", "/authors", "/authors/{id}"]);
    const books = bookstore.paths["/books"];
    const book = bookstore.paths["/books/{id}"];
    expect(books?.get?.operationId).toBe("listBooks");
    expect(books?.post?.operationId).toBe("createBook");
    expect(book?.get?.operationId).toBe("getBook");
    expect(book?.patch?.operationId).toBe("updateBook");
    expect(book?.delete?.operationId).toBe("deleteBook");
    expect(book?.parameters).toEqual([expect.objectContaining({ name: "id", in: "path", required: true })]);
  });

  it("has 404, 422 and 409 responses where they can happen", () => {
    const book = bookstore.paths["/books/{id}"];
    const author = bookstore.paths["/authors/{id}"];
    expect(book?.get?.responses["404"]).toEqual({ $ref: "#/components/responses/NotFound" });
    expect(bookstore.paths["/books"]?.post?.responses["422"]).toEqual({ $ref: "#/components/responses/ValidationFailed" });
    expect(bookstore.paths["/books"]?.post?.responses["409"]).toBeDefined(); // isbn is unique
    expect(bookstore.paths["/authors"]?.post?.responses["409"]).toBeUndefined();
    expect(author?.delete?.responses["409"]).toBeDefined(); // books refer to authors
    expect(book?.delete?.responses["409"]).toBeUndefined();
    expect(bookstore.components.responses["NotFound"]?.content?.["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/Error",
    });
  });

  it("uses JSON Schema for fields", () => {
    const schemas = bookstore.components.schemas;
    expect(schemas["Book"]?.required).toEqual(["id", "title", "authorId", "isbn", "price", "published"]);
    expect(schemas["Book"]?.properties?.["id"]).toMatchObject({ type: "string", format: "uuid", readOnly: true });
    expect(schemas["BookInput"]?.properties?.["published"]).toEqual({ type: "string", format: "date" });
    expect(schemas["BookInput"]?.properties?.["price"]).toEqual({ type: "number" });
    expect(schemas["BookInput"]?.properties?.["authorId"]).toMatchObject({ type: "string", format: "uuid" });
    expect(schemas["BookInput"]?.properties?.["isbn"]?.description).toMatch(/Unique/);
    expect(schemas["BookInput"]?.additionalProperties).toBe(false);
    expect(schemas["AuthorInput"]?.required).toEqual(["name"]);
    expect(schemas["BookPatch"]?.required).toBeUndefined();
    expect(schemas["Error"]?.required).toEqual(["code", "message"]);
  });

  it("maps ranges, integers, enums and date-times", () => {
    const doc = generateOpenApi(planFrom(SAMPLE_MESSAGES.todo ?? ""));
    const task = doc.components.schemas["TaskInput"]?.properties ?? {};
    expect(task["title"]).toEqual({ type: "string", minLength: 1, maxLength: 200 });
    expect(task["priority"]).toEqual({ type: "integer", minimum: 1, maximum: 3 });
    expect(task["due"]).toEqual({ type: "string", format: "date-time" });
    const pets = generateOpenApi(planFrom(SAMPLE_MESSAGES.petShop ?? "")).components.schemas["PetInput"]?.properties ?? {};
    expect(pets["species"]).toEqual({ type: "string", enum: ["dog", "cat", "bird"] });
    expect(pets["weight"]).toEqual({ type: "number", minimum: 0, maximum: 200 });
  });

  it("uses dashes in URLs for multi-word resources", () => {
    expect(Object.keys(generateOpenApi(planFrom(SAMPLE_MESSAGES.awkwardNames ?? "")).paths)).toContain("/blog-posts/{id}");
  });

  it("does not share objects between places in the document", () => {
    const doc = generateOpenApi(planFrom(BOOKSTORE));
    expect(doc.components.schemas["BookInput"]?.properties?.["title"]).not.toBe(doc.components.schemas["BookPatch"]?.properties?.["title"]);
    expect(generateOpenApi(planFrom(BOOKSTORE)).components.responses["NotFound"]).not.toBe(doc.components.responses["NotFound"]);
  });
});

describe("validateOpenApi", () => {
  const plans = {
    ...Object.fromEntries(Object.entries(SAMPLE_MESSAGES).map(([k, m]) => [k, planFrom(m)])),
    conversation: conversationPlan(),
  };

  it.each(Object.entries(plans))("accepts the generated document for %s", async (_name, plan) => {
    expect(await validateOpenApi(generateOpenApi(plan))).toEqual({ ok: true });
  });

  it("does not modify the document it validates", async () => {
    const doc = generateOpenApi(planFrom(BOOKSTORE));
    const before = structuredClone(doc);
    await validateOpenApi(doc);
    expect(doc).toEqual(before);
  });

  // Negative controls: the validator must be able to fail, with readable messages.
  const broken: Array<[string, (doc: OpenApiDocument) => void, RegExp]> = [
    [
      "a duplicated operationId",
      (d) => {
        const op = d.paths["/books/{id}"]?.get;
        if (op) op.operationId = "listBooks";
      },
      /operationId `listBooks` is duplicated/,
    ],
    [
      "a missing title",
      (d) => {
        Reflect.deleteProperty(d.info, "title");
      },
      /required property 'title'/,
    ],
    [
      "a response without description",
      (d) => {
        Reflect.deleteProperty(d.components.responses["NotFound"] ?? {}, "description");
      },
      /description/,
    ],
    [
      "a dangling $ref",
      (d) => {
        const p = d.components.schemas["Book"]?.properties;
        if (p) p["title"] = { $ref: "#/components/schemas/Nope" };
      },
      /Nope/,
    ],
    [
      "an undeclared path parameter",
      (d) => {
        const item = d.paths["/books/{id}"];
        if (item) Reflect.deleteProperty(item, "parameters");
      },
      /path parameter|\{id\}/i,
    ],
    [
      "a wrong version field",
      (d) => {
        Reflect.set(d, "openapi", 3);
      },
      /openapi|swagger|version/i,
    ],
  ];

  it.each(broken)("rejects %s", async (_label, breakIt, pattern) => {
    const doc = structuredClone(bookstore);
    breakIt(doc);
    const result = await validateOpenApi(doc);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.length).toBeGreaterThan(0);
      expect(result.errors.join("\n")).toMatch(pattern);
    }
  });

  it("returns errors instead of throwing for things that are not documents", async () => {
    for (const value of [null, "openapi.yaml", 42, [], {}]) {
      const result = await validateOpenApi(value as unknown as OpenApiDocument);
      expect(result.ok).toBe(false);
    }
  });
});
