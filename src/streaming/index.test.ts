import { afterEach, describe, expect, it } from "vitest";
import { getStreamingService } from "./index";
import { MemoryEventLog } from "./memory-log";
import { StreamingService } from "./service";

const slot = globalThis as unknown as { __genstreamStreaming?: StreamingService };

afterEach(async () => {
  await slot.__genstreamStreaming?.shutdown();
  delete slot.__genstreamStreaming;
});

describe("getStreamingService", () => {
  it("creates one instance lazily and keeps it on globalThis", () => {
    expect(slot.__genstreamStreaming).toBeUndefined();
    const service = getStreamingService();
    expect(service).toBeInstanceOf(StreamingService);
    expect(getStreamingService()).toBe(service);
    expect(slot.__genstreamStreaming).toBe(service);
  });

  it("reuses an instance another module graph already stored", () => {
    const existing = new StreamingService({ log: new MemoryEventLog() });
    slot.__genstreamStreaming = existing;
    expect(getStreamingService()).toBe(existing);
  });
});
