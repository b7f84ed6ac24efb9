import { describe, expect, it } from "vitest";
import { ConcurrencyGate } from "./concurrency";

describe("concurrency gate", () => {
  it("queues runs past the limit in FIFO order", async () => {
    const gate = new ConcurrencyGate();
    const order: string[] = [];
    const a = gate.acquire([{ key: "k", limit: 1 }]);
    const b = gate.acquire([{ key: "k", limit: 1 }]);
    const c = gate.acquire([{ key: "k", limit: 1 }]);
    expect([a.queued, b.queued, c.queued]).toEqual([false, true, true]);
    void b.granted.then(() => order.push("b"));
    void c.granted.then(() => order.push("c"));
    (await a.granted)();
    (await b.granted)();
    await c.granted;
    expect(order).toEqual(["b", "c"]);
    expect(gate.snapshot()).toEqual({ k: 1 });
  });

  it("takes several keys at once and lets a cancelled waiter go", async () => {
    const gate = new ConcurrencyGate();
    const holdX = await gate.acquire([{ key: "x", limit: 1 }]).granted;
    const both = gate.acquire([
      { key: "x", limit: 1 },
      { key: "y", limit: 1 },
    ]);
    const onlyY = gate.acquire([{ key: "y", limit: 1 }]);
    // y is free, but the earlier waiter also wants y: no overtaking.
    expect(onlyY.queued).toBe(true);
    both.cancel();
    const releaseY = await onlyY.granted;
    expect(gate.snapshot()).toEqual({ x: 1, y: 1 });
    holdX();
    releaseY();
    expect(gate.snapshot()).toEqual({});
  });
});
