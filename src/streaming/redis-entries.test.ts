import pino from "pino";
import { describe, expect, it } from "vitest";
import { entryToLogged, type StreamEntry } from "./redis-entries";
import { progressEvent } from "./test-harness";

const silent = pino({ level: "silent" });

describe("entryToLogged", () => {
  it("turns an appended entry back into the wire shape", () => {
    const event = progressEvent("p", 1);
    const entry: StreamEntry = ["7-0", ["key", "k1", "event", JSON.stringify(event), "at", "1", "epoch", "ep"]];
    expect(entryToLogged(entry, silent, {})).toEqual({ id: "ep:7", key: "k1", event });
  });

  it("skips an entry that is not what the append script writes", () => {
    const event = JSON.stringify(progressEvent("p", 1));
    const corrupt: StreamEntry[] = [
      ["1-0", ["key", "k", "event", "{not json", "epoch", "ep"]],
      ["2-0", ["key", "k", "event", JSON.stringify({ type: "run.started\nevent: x" }), "epoch", "ep"]],
      ["3-0", ["key", "k", "event", "null", "epoch", "ep"]],
      ["4-0", ["event", event, "epoch", "ep"]],
      ["5-0", ["key", "k", "event", event]],
    ];
    for (const entry of corrupt) expect(entryToLogged(entry, silent, {}), entry[0]).toBeNull();
  });
});
