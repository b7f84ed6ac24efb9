import { describe, expect, it } from "vitest";
import { extractTitle } from "./title";

describe("extractTitle", () => {
  it.each([
    ["A bookstore API with books", "Bookstore API"],
    ["the Bookstore API", "Bookstore API"],
    ["an   online   shop API", "Online Shop API"],
    ["Build me a simple REST API for a pet shop with pets", "Pet Shop API"],
    ["I want an API for the library", "Library API"],
    ["GitHub clone API", "GitHub Clone API"],
    ['an API called "Shelf Life"', "Shelf Life"],
    ["an API named Shelf", "Shelf"],
    ["Todo API", "Todo API"],
  ])("%s -> %s", (prose, title) => {
    expect(extractTitle(prose)).toBe(title);
  });

  it.each(["books and authors", "make a REST API", "hello", ""])("finds no title in %j", (prose) => {
    expect(extractTitle(prose)).toBeUndefined();
  });
});
