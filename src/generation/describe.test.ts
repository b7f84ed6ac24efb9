import { describe, expect, it } from "vitest";
import { describeField, describePlan } from "./describe";
import { parseField } from "./fields";
import { BOOKSTORE, conversationPlan, planFrom } from "./testing/fixtures";

describe("describePlan", () => {
  it("gives one line per resource in the input syntax", () => {
    expect(describePlan(planFrom(BOOKSTORE))).toEqual([
      "books: 5 fields (title, author -> authors, isbn unique, price:number, published:date)",
      "authors: 2 fields (name, bio?)",
    ]);
    expect(describePlan(planFrom("notes (body)"))).toEqual(["notes: 1 field (body)"]);
  });

  it("round-trips: every described field parses back to itself", () => {
    for (const resource of conversationPlan().resources) {
      for (const field of resource.fields) {
        const reparsed = parseField(describeField(field), resource.name);
        expect(reparsed).toEqual({ ok: true, field });
      }
    }
    const enumField = planFrom("posts (state:enum(draft|live)?, score:number -1.5..)").resources[0]?.fields ?? [];
    expect(enumField.map(describeField)).toEqual(["state:enum(draft|live)?", "score:number -1.5.."]);
  });
});
