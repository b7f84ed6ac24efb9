import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryEventLog, StreamingService } from "./streaming";
import { publishServices, services, ServicesNotBuiltError, type AppServices } from "./services";

const SLOT = Symbol.for("genstream.services");
const holder = globalThis as typeof globalThis & { [SLOT]?: { promise: Promise<AppServices> } };

afterEach(async () => {
  vi.unstubAllEnvs();
  const slot = holder[SLOT];
  delete holder[SLOT];
  const built = await slot?.promise.catch(() => undefined);
  await built?.close();
});

describe("services()", () => {
  it("outside production builds the services once, on demand, and keeps them under the one registered symbol", async () => {
    expect(holder[SLOT]).toBeUndefined();
    const first = services();
    // Asked again before the build settles (another module graph, a hot reload): the same build.
    expect(services()).toBe(first);
    const built = await first;
    expect(built.streaming).toBeInstanceOf(StreamingService);
    expect(await services()).toBe(built);
    expect(await holder[SLOT]?.promise).toBe(built);
    // Built from the environment of this process (vitest sets NODE_ENV=test).
    expect(built.config.NODE_ENV).toBe("test");
    expect(built.faults).toBeUndefined();
  });

  it("returns the services server.ts published, from any module graph", async () => {
    const streaming = new StreamingService({ log: new MemoryEventLog() });
    const published = { streaming, close: () => streaming.shutdown() } as unknown as AppServices;
    await publishServices(Promise.resolve(published));
    expect(await services()).toBe(published);
    expect(() => publishServices(Promise.resolve(published))).toThrow(/already published/);
  });

  it("in production refuses to build them: only server.ts does", async () => {
    vi.stubEnv("NODE_ENV", "production");
    await expect(services()).rejects.toThrow(ServicesNotBuiltError);
    await expect(services()).rejects.toThrow(/start the app with server\.ts/);
    expect(holder[SLOT]).toBeUndefined();
  });
});
