import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json";

/** The `canonicalize` the inngest SDK signs with, resolved from the SDK's own location. */
function sdkCanonicalize(): (value: unknown) => string {
  const fromHere = createRequire(import.meta.url);
  const loaded: unknown = createRequire(fromHere.resolve("inngest"))("canonicalize");
  if (typeof loaded !== "function") throw new Error("the SDK's canonicalize is not a function");
  return loaded as (value: unknown) => string;
}

describe("canonicalJson (RFC 8785)", () => {
  it("sorts keys at every depth and drops whitespace", () => {
    const value = JSON.parse('{ "b": 1, "a": [ 3, { "d": 1, "c": 2 } ], "c": { "z": null, "y": "x" } }');
    expect(canonicalJson(value)).toBe('{"a":[3,{"c":2,"d":1}],"b":1,"c":{"y":"x","z":null}}');
    expect(canonicalJson([])).toBe("[]");
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson([null, true, false])).toBe("[null,true,false]");
  });

  it("orders keys by UTF-16 code units, not code points (RFC 8785 3.2.3)", () => {
    const value = JSON.parse(
      '{"\\u20ac":"Euro","\\r":"CR","\\ufb33":"Hebrew","1":"One","\\ud83d\\ude00":"Smiley","\\u0080":"Control","\\u00f6":"Latin"}',
    );
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code unit, after it by code point.
    expect(canonicalJson(value)).toBe(
      '{"\\r":"CR","1":"One","\u0080":"Control","\u00f6":"Latin","\u20ac":"Euro","\ud83d\ude00":"Smiley","\ufb33":"Hebrew"}',
    );
  });

  it("serialises numbers as ECMAScript does (RFC 8785 examples)", () => {
    const value = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001,-0,1e-7,100,9007199254740993]}');
    expect(canonicalJson(value)).toBe('{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27,0,1e-7,100,9007199254740992]}');
  });

  it("escapes strings as JSON.stringify does (RFC 8785 example)", () => {
    const value = JSON.parse('{"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"}');
    expect(canonicalJson(value)).toBe('{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
    expect(canonicalJson("tab\there \u2028 é 😀")).toBe('"tab\\there \u2028 é 😀"');
    expect(canonicalJson("\ud800")).toBe('"\\ud800"');
  });

  it("drops undefined members, nulls undefined items, honours toJSON, refuses what JSON cannot hold", () => {
    expect(canonicalJson({ b: undefined, a: [undefined, 1] })).toBe('{"a":[null,1]}');
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(() => canonicalJson(Number.NaN)).toThrow("NaN");
    expect(() => canonicalJson({ n: Number.POSITIVE_INFINITY })).toThrow("Infinity");
    expect(() => canonicalJson(1n)).toThrow("bigint");
    expect(() => canonicalJson(undefined)).toThrow("undefined");
  });

  it("matches the SDK's canonicalize byte for byte on parsed JSON, and is idempotent", () => {
    const canonicalize = sdkCanonicalize();
    const samples = [
      '{"event":{"name":"t/x","data":{"z":1,"a":[1,2,{"y":"é","x":"\\u0000"}]},"id":"01","ts":1700000000000},"version":2}',
      '{"\\u20ac":1,"\\r":2,"\\ufb33":3,"1":4,"\\ud83d\\ude00":5,"\\u0080":6,"\\u00f6":7,"10":8,"2":9,"__proto__":10}',
      "[1.5e300,-1e-300,0.1,123456789012345680000,5e-324,-0.0]",
      '"a plain string"',
      "null",
      '{"steps":{"abc":{"data":null},"def":{"error":{"name":"Error","message":"x\\ny"}}},"ctx":{"stack":{"stack":[],"current":0}}}',
    ];
    for (const text of samples) {
      const value: unknown = JSON.parse(text);
      const ours = canonicalJson(value);
      expect(ours, text).toBe(canonicalize(value));
      expect(canonicalJson(JSON.parse(ours)), text).toBe(ours);
    }
  });
});
