import { describe, expect, it } from "vitest";
import { readyFrameSchema } from "../streaming/protocol";
import { parseFrameData, parseProgressFrame } from "./frames";
import { runEvents } from "./testing/events";

describe("frame parsing", () => {
  const event = runEvents("p1", "r1").started();
  const data = JSON.stringify({ key: "r1:run.started", event });

  it("accepts a well-formed progress frame", () => {
    expect(parseProgressFrame("run.started", { data, lastEventId: "e1:1" })).toEqual({
      ok: true,
      value: { id: "e1:1", key: "r1:run.started", event },
    });
  });

  it.each([
    ["no id", "run.started", { data, lastEventId: "" }, /no valid id/],
    ["not JSON", "run.started", { data: "{oops", lastEventId: "e1:1" }, /not JSON/],
    ["wrong shape", "run.started", { data: JSON.stringify({ key: "k", event: { type: "run.started" } }), lastEventId: "e1:1" }, /invalid/],
    ["name mismatch", "run.failed", { data, lastEventId: "e1:1" }, /carries a run.started/],
    ["no data", "run.started", { lastEventId: "e1:1" }, /without data/],
  ])("rejects %s without throwing", (_label, type, frame, message) => {
    const result = parseProgressFrame(type, frame);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  it("validates control frames against their schema", () => {
    expect(parseFrameData("ready", readyFrameSchema, { data: JSON.stringify({ connectionId: "c", cursor: "e1:0" }) }).ok).toBe(true);
    expect(parseFrameData("ready", readyFrameSchema, { data: JSON.stringify({ connectionId: "c", cursor: "bad cursor" }) }).ok).toBe(false);
  });
});
