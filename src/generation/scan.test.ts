import { describe, expect, it } from "vitest";
import { maskGroups, normalizeInput, segments, soleGroup, splitClauses, unmask } from "./scan";

function masked(text: string) {
  const result = maskGroups(text);
  if (!result.ok) throw new Error(result.error);
  return result.masked;
}

describe("maskGroups", () => {
  it("replaces top-level groups and keeps nested ones inside", () => {
    const m = masked("books (title, status:enum(a|b)) and authors (name)");
    expect(m.groups).toEqual(["title, status:enum(a|b)", "name"]);
    expect(unmask(m.text, m.groups)).toBe("books (title, status:enum(a|b)) and authors (name)");
    expect(segments(m.text).map((s) => s.before.trim())).toEqual(["books", "and authors"]);
  });

  it("reports an unclosed parenthesis with context", () => {
    const result = maskGroups("books (title, author");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/near "books \(title, author" is never closed/);
  });

  it("reports a stray closing parenthesis", () => {
    const result = maskGroups("books title) and authors (name)");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/without a matching "\("/);
  });

  it("finds a sole placeholder", () => {
    const m = masked("(a)");
    expect(soleGroup(m.text)).toBe(0);
    expect(soleGroup(`x ${m.text}`)).toBeUndefined();
  });
});

describe("splitClauses", () => {
  const split = (text: string) => splitClauses(masked(text).text).map((c) => unmask(c, masked(text).groups));

  it("splits sentences, lines and chained commands", () => {
    expect(split("add pages:int to books and remove bio from authors")).toEqual(["add pages:int to books", "remove bio from authors"]);
    expect(split("add pages:int to books, then rename bio to about in authors.")).toEqual([
      "add pages:int to books",
      "rename bio to about in authors",
    ]);
    expect(split("Todo API\n- tasks (title)\n* tags (name)")).toEqual(["Todo API", "tasks (title)", "tags (name)"]);
    expect(split("A shop API. Also products (name); and orders (total:number)")).toEqual([
      "A shop API",
      "products (name)",
      "orders (total:number)",
    ]);
  });

  it("does not split ranges or field lists joined by 'and'", () => {
    expect(split("add rating:int 1..5 to reviews")).toEqual(["add rating:int 1..5 to reviews"]);
    expect(split("add stock:int 0.. to products")).toEqual(["add stock:int 0.. to products"]);
    expect(split("add pages:int and isbn unique to books")).toEqual(["add pages:int and isbn unique to books"]);
  });
});

describe("normalizeInput", () => {
  it("removes placeholder look-alikes and normalizes whitespace and quotes", () => {
    expect(normalizeInput("a\uE0000\uE001b\r\n\u201Cc\u201D\t")).toBe('a0b\n"c" ');
  });
});
