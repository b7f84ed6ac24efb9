import { describe, expect, it } from "vitest";
import { camelCase, normalizeFieldName, pascalCase, refDisplayName, refFieldName, resourceNamesFor, titleCase } from "./naming";

describe("resourceNamesFor", () => {
  it.each([
    ["books", "books", "book"],
    ["Books", "books", "book"],
    ["book", "books", "book"],
    ["categories", "categories", "category"],
    ["category", "categories", "category"],
    ["movies", "movies", "movie"],
    ["addresses", "addresses", "address"],
    ["address", "addresses", "address"],
    ["boxes", "boxes", "box"],
    ["matches", "matches", "match"],
    ["statuses", "statuses", "status"],
    ["status", "statuses", "status"],
    ["people", "people", "person"],
    ["person", "people", "person"],
    ["children", "children", "child"],
    ["courses", "courses", "course"],
    ["houses", "houses", "house"],
    ["days", "days", "day"],
    ["news", "news", "news"],
    ["sheep", "sheep", "sheep"],
    ["blog-posts", "blog_posts", "blog_post"],
    ["Blog_Posts", "blog_posts", "blog_post"],
    ["order_status", "order_statuses", "order_status"],
  ])("%s -> %s / %s", (word, name, singular) => {
    expect(resourceNamesFor(word)).toEqual({ name, singular });
  });
});

describe("casing", () => {
  it("pascal and camel case snake names", () => {
    expect(pascalCase("blog_post")).toBe("BlogPost");
    expect(pascalCase("book")).toBe("Book");
    expect(camelCase("blog_post")).toBe("blogPost");
  });

  it("normalizes typed field names", () => {
    expect(normalizeFieldName("first-name")).toBe("firstName");
    expect(normalizeFieldName("Title")).toBe("title");
    expect(normalizeFieldName("ISBN")).toBe("isbn");
    expect(normalizeFieldName("publishedAt")).toBe("publishedAt");
    expect(normalizeFieldName("created_at")).toBe("created_at");
  });

  it("names reference fields with an Id suffix, once", () => {
    expect(refFieldName("author")).toBe("authorId");
    expect(refFieldName("authorId")).toBe("authorId");
    expect(refFieldName("author_id")).toBe("author_id");
    expect(refDisplayName("authorId")).toBe("author");
    expect(refDisplayName("author_id")).toBe("author");
    expect(refDisplayName("Id")).toBe("Id");
  });

  it("title-cases words without touching existing capitals", () => {
    expect(titleCase("pet  shop")).toBe("Pet Shop");
    expect(titleCase("GitHub clone")).toBe("GitHub Clone");
  });
});

describe("titleCase of shouting", () => {
  it("title-cases long all-caps words but keeps short acronyms", () => {
    expect(titleCase("BOOKSTORE")).toBe("Bookstore");
    expect(titleCase("REST CRM")).toBe("REST CRM");
  });
});
