import { describe, expect, it } from "vitest";
import { inngestMode, parseServerEnv } from "./env";

const KEY = `signkey-prod-${"0123456789abcdef".repeat(4)}`;

describe("Inngest configuration", () => {
  it("is in cloud mode (verifying) with keys and no INNGEST_DEV, in dev mode otherwise", () => {
    expect(
      inngestMode(parseServerEnv({ INNGEST_SIGNING_KEY: KEY, INNGEST_EVENT_KEY: "e", INNGEST_BASE_URL: "http://inngest:8288" })),
    ).toEqual({ kind: "cloud" });
    expect(inngestMode(parseServerEnv({ INNGEST_SIGNING_KEY: KEY, INNGEST_DEV: "false" }))).toEqual({ kind: "cloud" });
    expect(inngestMode(parseServerEnv({}))).toEqual({ kind: "dev", url: "http://127.0.0.1:8288" });
    expect(inngestMode(parseServerEnv({ INNGEST_DEV: "http://127.0.0.1:9000", INNGEST_EVENT_KEY: "e" }))).toEqual({
      kind: "dev",
      url: "http://127.0.0.1:9000",
    });
  });
});
