import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { appRequestHeaders, checkResponseSignature, hmacHex, signRequest, stripSigningKeyPrefix } from "./signing";

const HEX = "9f".repeat(32);
const KEY = `signkey-test-${HEX}`;
const NOW = 1_700_000_000_123;

describe("request signing helpers", () => {
  it("strips the signkey-<env>- prefix only", () => {
    expect(stripSigningKeyPrefix(KEY)).toBe(HEX);
    expect(stripSigningKeyPrefix(`signkey-prod-${HEX}`)).toBe(HEX);
    expect(stripSigningKeyPrefix(`signkey-branch_1-${HEX}`)).toBe(HEX);
    expect(stripSigningKeyPrefix(HEX)).toBe(HEX);
  });

  it("signs the canonical form of the parsed body followed by t, keyed with the key's text", () => {
    const header = signRequest('{ "url": "http://x/api", "a": [1, 2.50] }', KEY, NOW);
    const expected = createHmac("sha256", HEX).update('{"a":[1,2.5],"url":"http://x/api"}1700000000').digest("hex");
    expect(header).toBe(`t=1700000000&s=${expected}`);
    // The same JSON written differently signs the same; another key or body does not.
    expect(signRequest('{"a":[1,2.5],"url":"http://x/api"}', KEY, NOW)).toBe(header);
    expect(signRequest('{"a":[1,2.5],"url":"http://x/api"}', HEX, NOW)).toBe(header);
    expect(signRequest('{"a":[1,2.6],"url":"http://x/api"}', KEY, NOW)).not.toBe(header);
    expect(signRequest('{"a":[1,2.5],"url":"http://x/api"}', `signkey-test-${"00".repeat(32)}`, NOW)).not.toBe(header);
  });

  it("signs an empty body as the empty string and a JSON string body as its value", () => {
    expect(signRequest("", KEY, NOW)).toBe(`t=1700000000&s=${hmacHex("", KEY, "1700000000")}`);
    expect(signRequest('"hi"', KEY, NOW)).toBe(`t=1700000000&s=${hmacHex("hi", KEY, "1700000000")}`);
  });

  it("adds the signature header and says cloud only with a key", () => {
    expect(appRequestHeaders("{}", undefined)).toEqual({ "content-type": "application/json", "x-inngest-server-kind": "dev" });
    expect(appRequestHeaders("{}", KEY)).toMatchObject({
      "x-inngest-server-kind": "cloud",
      "x-inngest-signature": expect.stringMatching(/^t=\d+&s=[0-9a-f]{64}$/),
    });
  });
});

describe("checkResponseSignature", () => {
  const body = '[{"id":"abc","op":"StepRun"}]';
  const t = String(Math.round(NOW / 1000));
  const valid = `t=${t}&s=${hmacHex(body, KEY, t)}`;

  it("accepts the raw body signed with the key, and reports an unsigned answer as such", () => {
    expect(checkResponseSignature(valid, body, KEY, NOW)).toEqual({ kind: "valid" });
    expect(checkResponseSignature(null, body, KEY, NOW)).toEqual({ kind: "unsigned" });
  });

  it("rejects a tampered body, another key, a stale timestamp and a malformed header", () => {
    expect(checkResponseSignature(valid, body.replace("abc", "abd"), KEY, NOW)).toMatchObject({
      kind: "invalid",
      reason: expect.stringContaining("HMAC"),
    });
    expect(checkResponseSignature(valid, body, `signkey-test-${"00".repeat(32)}`, NOW)).toMatchObject({ kind: "invalid" });
    expect(checkResponseSignature(valid, body, KEY, NOW + 5 * 60_000 + 1_000)).toMatchObject({
      kind: "invalid",
      reason: expect.stringContaining("5 minutes"),
    });
    expect(checkResponseSignature("s=abc", body, KEY, NOW)).toMatchObject({
      kind: "invalid",
      reason: expect.stringContaining("malformed"),
    });
  });
});
