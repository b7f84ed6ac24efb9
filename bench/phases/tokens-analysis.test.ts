import { describe, expect, it } from "vitest";
import type { TextEventReceipt, TokenProjectResult } from "../client/tokens";
import type { WrittenChunk } from "../../src/test/fake-model-server";
import { analyseProject, deliveredTokens } from "./tokens-analysis";

const CONTENT = "abcdefghij";
/** Five chunks of two characters, written 10 ms apart. */
const CHUNKS: WrittenChunk[] = [0, 1, 2, 3, 4].map((i) => ({ index: i, offset: 2 * i, end: 2 * i + 2, writtenAt: 1_000 + 10 * i }));

function event(id: string, offset: number, text: string, receipts: number[], attempt = 0): TextEventReceipt {
  return { id, runId: "run-1", attempt, offset, end: offset + text.length, text, receipts };
}

function result(events: TextEventReceipt[], overrides: Partial<TokenProjectResult> = {}): TokenProjectResult {
  return {
    projectId: "p1",
    connections: 2,
    sentAt: 900,
    sendError: null,
    events,
    textEventsPerConnection: [events.length, events.length],
    terminal: { "run.completed": 2 },
    orderErrors: [],
    dropped: 0,
    ...overrides,
  };
}

/** Two coalesced events: "abcd" (chunks 0-1) and "efghij" (chunks 2-4), each on both connections. */
const COALESCED = [event("e:1", 0, "abcd", [1_015, 1_018]), event("e:2", 4, "efghij", [1_045, 1_047])];

describe("analyseProject", () => {
  it("times each chunk to the event that completed it, on the first and on every connection", () => {
    const a = analyseProject(CHUNKS, result(COALESCED), CONTENT, 2);
    expect(a.problems).toEqual([]);
    expect(a.everyClientMs).toEqual([18, 8, 27, 17, 7]);
    expect(a.firstClientMs).toEqual([15, 5, 25, 15, 5]);
    expect(a.deliveries.map((d) => d.tokens)).toEqual([2, 3]);
    // Two events over the 40 ms the model streamed.
    expect(a.eventsPerConnectionPerSecond).toEqual([50, 50]);
  });

  it("counts an event that ends inside a chunk toward the next one", () => {
    const split = [event("e:1", 0, "abc", [1_012, 1_013]), event("e:2", 3, "defghij", [1_044, 1_046])];
    const a = analyseProject(CHUNKS, result(split), CONTENT, 2);
    expect(a.problems).toEqual([]);
    expect(a.deliveries.map((d) => d.tokens)).toEqual([1, 4]);
    expect(a.everyClientMs[1]).toBe(36); // "cd" ends at 4: complete only with the second event
  });

  it("reports an event missing on a connection, a text that differs, a second attempt and a run not completed", () => {
    const missing = analyseProject(
      CHUNKS,
      result([event("e:1", 0, "abcd", [1_015]), COALESCED[1] ?? event("", 0, "", [])], { textEventsPerConnection: [2, 1] }),
      CONTENT,
      2,
    );
    expect(missing.problems.join("\n")).toMatch(/1 of 2 text events did not reach every connection/);
    expect(missing.problems.join("\n")).toMatch(/1 connection\(s\) received a different number/);
    expect(missing.everyClientMs).toEqual([27, 17, 7]); // chunks of the incomplete event never reached every connection

    const wrong = analyseProject(CHUNKS, result([event("e:1", 0, "abcd", [1, 2]), event("e:2", 4, "efgXij", [3, 4])]), CONTENT, 2);
    expect(wrong.problems.join("\n")).toMatch(/first difference at 7/);

    const retried = analyseProject(CHUNKS, result([...COALESCED, event("e:3", 0, "ab", [1_050, 1_051], 1)]), CONTENT, 2);
    expect(retried.problems.join("\n")).toMatch(/2 text attempts/);

    const unfinished = analyseProject(CHUNKS, result(COALESCED, { terminal: { "run.completed": 1 }, dropped: 1 }), CONTENT, 2);
    expect(unfinished.problems.join("\n")).toMatch(/run.completed on 1 of 2 connections/);
    expect(unfinished.problems.join("\n")).toMatch(/1 connection\(s\) closed by the server/);
  });

  it("reports a model stream that ended early", () => {
    const a = analyseProject(CHUNKS.slice(0, 3), result(COALESCED), CONTENT, 2);
    expect(a.problems.join("\n")).toMatch(/wrote 6 of 10 characters/);
  });
});

describe("deliveredTokens", () => {
  it("counts chunks x connections received inside the window", () => {
    const a = analyseProject(CHUNKS, result(COALESCED), CONTENT, 2);
    expect(deliveredTokens([a])).toBe(10);
    expect(deliveredTokens([a], 1_000, 1_046)).toBe(2 * 2 + 3 * 1);
    expect(deliveredTokens([a], 1_016, 1_044)).toBe(2);
  });
});
