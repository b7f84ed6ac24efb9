import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { formatCursor, parseCursor } from "./protocol";
import { cursorFromRequest } from "./request";

const req = (url: string, lastEventId?: string) =>
  ({ url, headers: lastEventId === undefined ? {} : { "last-event-id": lastEventId } }) as unknown as IncomingMessage;
const parsed = (url: string) => new URL(url, "http://localhost");

describe("cursorFromRequest", () => {
  it("reads Last-Event-ID first, then ?cursor=, from the request or from the URL the listener parsed", () => {
    const cases: Array<[string, string | undefined, ReturnType<typeof cursorFromRequest>]> = [
      ["/api/projects/p/events", undefined, { kind: "cursor", cursor: undefined }],
      ["/api/projects/p/events?cursor=e1:4", undefined, { kind: "cursor", cursor: "e1:4" }],
      ["/api/projects/p/events?cursor=e1:4", "e1:9", { kind: "cursor", cursor: "e1:9" }],
      ["/api/projects/p/events?cursor=bad", undefined, { kind: "malformed", raw: "bad" }],
      ["/api/projects/p/events", "e1:x", { kind: "malformed", raw: "e1:x" }],
    ];
    for (const [url, header, expected] of cases) {
      expect(cursorFromRequest(req(url, header))).toEqual(expected);
      expect(cursorFromRequest(req(url, header), parsed(url))).toEqual(expected);
    }
  });
});

describe("parseCursor", () => {
  it("accepts exactly what cursorSchema accepts", () => {
    expect(parseCursor(formatCursor("Ab_-9", 12))).toEqual({ epoch: "Ab_-9", seq: 12 });
    for (const bad of ["", ":1", "e:", "e:1a", "e 1:2", `${"e".repeat(65)}:1`, "e:1234567890123456", "a:b:1"]) {
      expect(parseCursor(bad)).toBeNull();
    }
  });
});
