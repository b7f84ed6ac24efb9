import { describe, expect, it } from "vitest";
import { type CoalescerTimer, createTextCoalescer } from "./coalescer";
import { TEXT_FLUSH_INTERVAL_MS, TEXT_FLUSH_MAX_BYTES } from "./tuning";

/** A fake clock: timers fire only when the test advances time. */
function fakeTimer(): CoalescerTimer & { advance(ms: number): void; now: number; active: number } {
  const timers = new Map<number, { at: number; callback: () => void }>();
  let nextId = 1;
  const clock = {
    now: 0,
    get active() {
      return timers.size;
    },
    set(callback: () => void, ms: number) {
      const id = nextId++;
      timers.set(id, { at: clock.now + ms, callback });
      return id;
    },
    clear(handle: unknown) {
      timers.delete(handle as number);
    },
    advance(ms: number) {
      const until = clock.now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        clock.now = due[1].at;
        due[1].callback();
      }
      clock.now = until;
    },
  };
  return clock;
}

function setup(options: { maxBytes?: number; flush?: (text: string) => void | Promise<void> } = {}) {
  const timer = fakeTimer();
  const flushes: { at: number; text: string }[] = [];
  const coalescer = createTextCoalescer({
    timer,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    flush:
      options.flush ??
      ((text) => {
        flushes.push({ at: timer.now, text });
      }),
  });
  return { timer, flushes, coalescer };
}

describe("text coalescer", () => {
  it("turns 100 deltas a second into about 20 flushes a second, losing and reordering nothing", async () => {
    const { timer, flushes, coalescer } = setup();
    const deltas = Array.from({ length: 300 }, (_, i) => `t${i} `);
    for (const delta of deltas) {
      coalescer.push(delta);
      timer.advance(10); // 100 deltas per second of fake time
    }
    await coalescer.end();
    const perSecond = flushes.length / 3;
    expect(perSecond).toBeGreaterThanOrEqual(19);
    expect(perSecond).toBeLessThanOrEqual(21);
    expect(flushes.map((f) => f.text).join("")).toBe(deltas.join(""));
    for (let i = 1; i < flushes.length; i++) {
      expect((flushes[i]?.at ?? 0) - (flushes[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(TEXT_FLUSH_INTERVAL_MS - 10);
    }
  });

  it("flushes no later than the interval after the first waiting delta", () => {
    const { timer, flushes, coalescer } = setup();
    coalescer.push("a");
    timer.advance(TEXT_FLUSH_INTERVAL_MS - 1);
    expect(flushes).toEqual([]);
    coalescer.push("b");
    timer.advance(1);
    expect(flushes).toEqual([{ at: TEXT_FLUSH_INTERVAL_MS, text: "ab" }]);
    timer.advance(1000);
    expect(flushes).toHaveLength(1); // nothing waiting, nothing flushed, no timer left behind
    expect(timer.active).toBe(0);
  });

  it("flushes at once when the batch reaches the byte cap, and no batch exceeds it", () => {
    const { flushes, coalescer } = setup();
    const delta = "x".repeat(100);
    for (let i = 0; i < 25; i++) coalescer.push(delta); // 2,500 bytes with no time passing
    expect(flushes.length).toBe(2);
    for (const flush of flushes) expect(flush.text.length).toBeLessThanOrEqual(TEXT_FLUSH_MAX_BYTES);
    expect(flushes.map((f) => f.text).join("")).toBe(delta.repeat(flushes.length * 10));
  });

  it("counts bytes as UTF-8, not characters", () => {
    const { flushes, coalescer } = setup({ maxBytes: 8 });
    coalescer.push("éé"); // 4 bytes
    coalescer.push("🙂"); // 4 bytes: reaches the cap
    expect(flushes.map((f) => f.text)).toEqual(["éé🙂"]);
  });

  it("passes a single delta larger than the cap through whole", () => {
    const { flushes, coalescer } = setup({ maxBytes: 4 });
    coalescer.push("ab");
    coalescer.push("cdefgh");
    expect(flushes.map((f) => f.text)).toEqual(["ab", "cdefgh"]);
  });

  it("flushes the rest on end; pushes and ends after that are no-ops", async () => {
    const { timer, flushes, coalescer } = setup();
    coalescer.push("tail");
    await coalescer.end();
    expect(flushes.map((f) => f.text)).toEqual(["tail"]);
    coalescer.push("late");
    await coalescer.end();
    timer.advance(1000);
    expect(flushes.map((f) => f.text)).toEqual(["tail"]);
    expect(timer.active).toBe(0);
  });

  it("keeps order with an async flush and reports its failure from end()", async () => {
    const timer = fakeTimer();
    const seen: string[] = [];
    const releases: (() => void)[] = [];
    const coalescer = createTextCoalescer({
      timer,
      maxBytes: 2,
      flush: (text) =>
        new Promise<void>((resolve) => {
          releases.push(() => {
            seen.push(text);
            resolve();
          });
        }),
    });
    coalescer.push("ab");
    coalescer.push("cd");
    const ended = coalescer.end();
    // The second flush only starts after the first finished.
    await Promise.resolve();
    expect(releases).toHaveLength(1);
    releases[0]?.();
    await new Promise<void>((resolve) => {
      queueMicrotask(resolve);
    });
    await Promise.resolve();
    releases[1]?.();
    await ended;
    expect(seen).toEqual(["ab", "cd"]);

    const failing = createTextCoalescer({ timer, flush: () => Promise.reject(new Error("log down")) });
    failing.push("x");
    await expect(failing.end()).rejects.toThrow("log down");
  });

  it("discard drops the buffer and stops the timer", () => {
    const { timer, flushes, coalescer } = setup();
    coalescer.push("abandoned");
    coalescer.discard();
    timer.advance(1000);
    expect(flushes).toEqual([]);
  });

  it("with intervalMs 0 flushes every delta as its own batch, without a timer (coalescing off)", () => {
    const timer = fakeTimer();
    const batches: string[] = [];
    const coalescer = createTextCoalescer({ timer, intervalMs: 0, flush: (text) => void batches.push(text) });
    for (const delta of ["a", "b", "c"]) coalescer.push(delta);
    expect(batches).toEqual(["a", "b", "c"]);
    expect(timer.active).toBe(0);
  });
});
