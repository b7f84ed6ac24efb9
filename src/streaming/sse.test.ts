import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loggedEventSchema, type LoggedEvent } from "./protocol";
import {
  encodeClose,
  encodeConnected,
  encodeError,
  encodeEvent,
  encodePing,
  encodeReady,
  encodeReset,
  encodeRetry,
  encodeSubscriptionReady,
  encodeSubscriptionReset,
  parseSseStream,
  SseParser,
} from "./sse";
import { progressEvent } from "./test-harness";

const logged: LoggedEvent = {
  id: "ep0ch:7",
  key: "run-1:generate-code:3",
  event: progressEvent("p", 1, "line one\nline two \u2028 é"),
};

describe("SSE encoding", () => {
  it("encodes a progress event with id, type and the whole LoggedEvent as one data line", () => {
    const text = encodeEvent(logged).toString("utf8");
    const lines = text.split("\n");
    expect(lines.slice(0, 2)).toEqual(["id: ep0ch:7", "event: step.progress"]);
    expect(lines[2]?.startsWith("data: ")).toBe(true);
    expect(lines.slice(3)).toEqual(["", ""]);
    expect(loggedEventSchema.parse(JSON.parse(lines[2]?.slice(6) ?? ""))).toEqual(logged);
  });

  it("encodes control frames: ready/reset carry an id, error/close/ping do not", () => {
    expect(encodeReady({ connectionId: "c1", cursor: "e:3" }).toString()).toBe(
      'id: e:3\nevent: ready\ndata: {"connectionId":"c1","cursor":"e:3"}\n\n',
    );
    expect(encodeReset({ reason: "retention", cursor: "e:9" }).toString()).toBe(
      'id: e:9\nevent: reset\ndata: {"reason":"retention","cursor":"e:9"}\n\n',
    );
    expect(encodeError({ code: "FORBIDDEN", message: "no" }).toString()).toBe(
      'event: error\ndata: {"code":"FORBIDDEN","message":"no"}\n\n',
    );
    expect(encodeClose({ reason: "max-duration" }).toString()).toBe('event: close\ndata: {"reason":"max-duration"}\n\n');
    expect(encodePing(123).toString()).toBe('event: ping\ndata: {"t":123}\n\n');
    expect(encodeRetry(1000).toString()).toBe("retry: 1000\n\n");
  });

  it("encodes the multiplexed stream's own frames without an id line (no one cursor names the connection's position)", () => {
    const connectionId = "5f0c6a1e-8d2b-4c3a-9e7f-1a2b3c4d5e6f";
    expect(encodeConnected({ connectionId }).toString()).toBe(`event: connected\ndata: {"connectionId":"${connectionId}"}\n\n`);
    expect(encodeSubscriptionReady({ projectId: "p1", cursor: "e:3" }).toString()).toBe(
      'event: ready\ndata: {"projectId":"p1","cursor":"e:3"}\n\n',
    );
    expect(encodeSubscriptionReset({ projectId: "p1", reason: "retention", cursor: "e:9" }).toString()).toBe(
      'event: reset\ndata: {"projectId":"p1","reason":"retention","cursor":"e:9"}\n\n',
    );
    // With the subscribe's own id, when the client named it.
    expect(encodeSubscriptionReady({ projectId: "p1", cursor: "e:3", subscriptionId: "s4" }).toString()).toBe(
      'event: ready\ndata: {"projectId":"p1","cursor":"e:3","subscriptionId":"s4"}\n\n',
    );
    expect(encodeSubscriptionReset({ projectId: "p1", reason: "retention", cursor: "e:9", subscriptionId: "s4" }).toString()).toBe(
      'event: reset\ndata: {"projectId":"p1","reason":"retention","cursor":"e:9","subscriptionId":"s4"}\n\n',
    );
  });
});

describe("SseParser", () => {
  const wire = Buffer.concat([
    encodeRetry(1500),
    encodeEvent(logged),
    Buffer.from(": a comment\r\n\r\nevent: multi\r\ndata: a\r\ndata: b\r\n\r\ndata: plain\r\r"),
    encodePing(5),
  ]);
  const expected = [
    { id: "ep0ch:7", event: "step.progress", data: JSON.stringify(logged) },
    { event: "multi", data: "a\nb" },
    { event: "message", data: "plain" },
    { event: "ping", data: '{"t":5}' },
  ];

  it("parses a whole stream, skipping comments and the data-less retry block", () => {
    const parser = new SseParser();
    expect(parser.push(wire)).toEqual(expected);
    expect(parser.retry).toBe(1500);
  });

  it("gives the same frames however the bytes are split (inside UTF-8 sequences and CRLF too)", () => {
    for (const size of [1, 2, 3, 7, 64]) {
      const parser = new SseParser();
      const frames = [];
      for (let i = 0; i < wire.length; i += size) frames.push(...parser.push(wire.subarray(i, i + size)));
      expect(frames, `chunk size ${size}`).toEqual(expected);
    }
  });

  it("parseSseStream yields frames from an async chunk source", async () => {
    const chunks = [wire.subarray(0, 10), wire.subarray(10, 200), wire.subarray(200)];
    const frames = [];
    for await (const frame of parseSseStream(Readable.from(chunks))) frames.push(frame);
    expect(frames).toEqual(expected);
  });
});
