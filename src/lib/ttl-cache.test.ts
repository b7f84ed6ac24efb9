import { describe, expect, it } from "vitest";
import { TtlCache } from "./ttl-cache";

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("TtlCache", () => {
  it("answers from the cache until the TTL passes, then loads again", async () => {
    const c = clock();
    const cache = new TtlCache<string>({ ttlMs: 100, maxEntries: 10, now: c.now });
    let loads = 0;
    const load = async () => `v${++loads}`;
    expect(await cache.getOrLoad("k", load)).toBe("v1");
    c.advance(99);
    expect(await cache.getOrLoad("k", load)).toBe("v1");
    c.advance(1);
    expect(await cache.getOrLoad("k", load)).toBe("v2");
  });

  it("never keeps an entry past the value's own expiry", async () => {
    const c = clock();
    const cache = new TtlCache<{ until: number }>({ ttlMs: 10_000, maxEntries: 10, now: c.now });
    let loads = 0;
    const load = async () => {
      loads++;
      return { until: c.now() + 50 };
    };
    await cache.getOrLoad("k", load, (v) => v.until);
    c.advance(50);
    await cache.getOrLoad("k", load, (v) => v.until);
    expect(loads).toBe(2);
  });

  it("does not cache null and shares one load between concurrent misses", async () => {
    const cache = new TtlCache<string>({ ttlMs: 1_000, maxEntries: 10 });
    let loads = 0;
    const none = async () => {
      loads++;
      return null;
    };
    await Promise.all([cache.getOrLoad("k", none), cache.getOrLoad("k", none), cache.getOrLoad("k", none)]);
    expect(loads).toBe(1);
    await cache.getOrLoad("k", none);
    expect(loads).toBe(2);
    expect(cache.size).toBe(0);
  });

  it("does not cache a failed load", async () => {
    const cache = new TtlCache<string>({ ttlMs: 1_000, maxEntries: 10 });
    await expect(cache.getOrLoad("k", () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    expect(await cache.getOrLoad("k", async () => "ok")).toBe("ok");
  });

  it("evicts the oldest entry beyond maxEntries, and delete removes one", async () => {
    const cache = new TtlCache<string>({ ttlMs: 1_000, maxEntries: 2 });
    for (const k of ["a", "b", "c"]) await cache.getOrLoad(k, async () => k);
    expect(cache.size).toBe(2);
    let reloaded = false;
    await cache.getOrLoad("a", async () => ((reloaded = true), "a"));
    expect(reloaded).toBe(true);
    cache.delete("a");
    expect(cache.size).toBe(1);
  });

  it("clear forgets entries, and a load that started before it does not repopulate", async () => {
    const cache = new TtlCache<string>({ ttlMs: 1_000, maxEntries: 10 });
    await cache.getOrLoad("a", async () => "a");
    let finish: (v: string) => void = () => undefined;
    const pending = cache.getOrLoad("b", () => new Promise<string>((resolve) => (finish = resolve)));
    cache.clear();
    finish("stale");
    expect(await pending).toBe("stale");
    expect(cache.size).toBe(0);
    expect(await cache.getOrLoad("b", async () => "fresh")).toBe("fresh");
  });
});
