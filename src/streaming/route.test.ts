import { describe, expect, it } from "vitest";
import { matchMuxStreamPath, matchStreamPath, muxStreamPath, streamPath } from "./route";

describe("matchStreamPath", () => {
  it("matches the stream path and returns the projectId", () => {
    expect(matchStreamPath("/api/projects/abc_DEF-123/events")).toEqual({ projectId: "abc_DEF-123" });
    expect(matchStreamPath("/api/projects/p1/events/")).toEqual({ projectId: "p1" });
    expect(matchStreamPath(`/api/projects/${"a".repeat(64)}/events`)).toEqual({ projectId: "a".repeat(64) });
  });

  it("does not match other paths or invalid project ids", () => {
    for (const path of [
      "/api/projects/p1",
      "/api/projects//events",
      "/api/projects/a/b/events",
      "/api/projects/p1/events/x",
      "/api/projects/p%2F1/events",
      "/api/projects/p.1/events",
      `/api/projects/${"a".repeat(65)}/events`,
      "/x/api/projects/p1/events",
    ]) {
      expect(matchStreamPath(path), path).toBeNull();
    }
  });

  it("streamPath builds URLs that matchStreamPath accepts", () => {
    expect(streamPath("p1")).toBe("/api/projects/p1/events");
    expect(streamPath("p1", "ab:3")).toBe("/api/projects/p1/events?cursor=ab%3A3");
    expect(matchStreamPath(streamPath("p1"))).toEqual({ projectId: "p1" });
    // The client passes null for "no cursor yet".
    expect(streamPath("p1", null)).toBe("/api/projects/p1/events");
  });
});

describe("matchMuxStreamPath", () => {
  it("matches the multiplexed stream's path, which muxStreamPath builds, and nothing else", () => {
    expect(muxStreamPath()).toBe("/api/stream");
    expect(matchMuxStreamPath(muxStreamPath())).toBe(true);
    expect(matchMuxStreamPath("/api/stream/")).toBe(true);
    for (const path of ["/api/streams", "/api/stream/x", "/x/api/stream", "/api", "/api/projects/p1/events"]) {
      expect(matchMuxStreamPath(path), path).toBe(false);
    }
  });
});
