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

  // No timing here: a quadratic split takes most of a minute on 200k spaces and many minutes on a
  // million, so the test's own timeout catches a regression; the linear one takes milliseconds.
  const RUN = " ".repeat(200_000);

  it("splits long runs of spaces in linear time, with the same clauses", () => {
    expect(splitClauses(RUN)).toEqual([]);
    expect(splitClauses(`books${RUN}`)).toEqual(["books"]);
    expect(splitClauses(`add pages:int to books${RUN}then${RUN}remove bio from authors`)).toEqual([
      "add pages:int to books",
      "remove bio from authors",
    ]);
    expect(splitClauses(`add pages:int to books,${RUN}and${RUN}remove bio from authors`)).toEqual([
      "add pages:int to books",
      "remove bio from authors",
    ]);
    // Runs that end in no keyword: one clause, its inner spaces kept.
    expect(splitClauses(`a${RUN}b`)).toEqual([`a${RUN}b`]);
    expect(splitClauses(`a and${RUN}b`)).toEqual([`a and${RUN}b`]);
    expect(splitClauses(`a,${RUN}b`)).toEqual([`a,${RUN}b`]);
    expect(splitClauses(`a${" \n".repeat(200_000)}b`)).toEqual(["a", "b"]);
    expect(splitClauses(`a${" and".repeat(200_000)}`)).toEqual([`a${" and".repeat(200_000)}`]);
  });

  it("gives the clauses the former split gave (leading \\s+ breaks), on random messages", () => {
    // The former pattern, kept here as the reference: only where a break starts inside whitespace differs.
    const verb = "(?:also\\s+)?(?:add|include|remove|delete|drop|rename)\\b";
    const former = new RegExp(
      [
        "\\n+",
        ";",
        "(?<!\\.)\\.(?!\\.)(?=\\s|$)",
        ",?\\s+(?:and\\s+)?then\\s+",
        ",\\s*(?:and\\s+)?(?=also\\b)",
        `,?\\s+and\\s+(?=${verb})`,
        `,\\s*(?=${verb})`,
      ].join("|"),
      "i",
    );
    const filler = /^(?:[-*•>]+\s*|\d+[.)]\s+|(?:please|ok|okay|now|next|then|also|and|plus|finally|so)\b[\s,:]*)+/i;
    const formerSplit = (text: string) =>
      text
        .split(former)
        .map((clause) => clause.trim().replace(filler, "").trim())
        .filter((clause) => clause.length > 0);

    const pieces = [" ", "  ", "\n", "\n\n", " \n", "\n ", "\t", "\u2003", ",", ", ", ":", ";", ".", "..", "and", "AND", "then", "Then"];
    const words = ["also", "add", "remove", "rename", "books", "pages:int", "to", "x", "1", "- ", "please", "\uE0000\uE001"];
    // mulberry32: a small seeded generator, so a failure names an input that reproduces.
    let seed = 11;
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
    };
    for (let i = 0; i < 20_000; i++) {
      let text = "";
      const length = 1 + random(24);
      for (let j = 0; j < length; j++) {
        const from = random(3) === 0 ? words : pieces;
        text += (random(2) === 0 ? " " : "") + (from[random(from.length)] ?? "");
      }
      expect(splitClauses(text), JSON.stringify(text)).toEqual(formerSplit(text));
    }
  });
});

describe("normalizeInput", () => {
  it("removes placeholder look-alikes and normalizes whitespace and quotes", () => {
    expect(normalizeInput("a\uE0000\uE001b\r\n\u201Cc\u201D\t")).toBe('a0b\n"c" ');
  });
});
