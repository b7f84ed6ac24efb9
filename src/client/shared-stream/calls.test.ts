import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trpcSubscriptionCalls } from "./calls";
import { SubscriptionCallError } from "./holder";

const INPUT = { connectionId: "00000000-0000-4000-8000-000000000001", projectId: "p1", cursor: null, subscriptionId: "s1" };

/** A server that reads the request and never answers, as a socket gone half-open looks to the caller. */
describe("trpcSubscriptionCalls", () => {
  let server: Server;
  let url: string;
  let received = 0;

  beforeAll(async () => {
    server = createServer((req) => {
      received += 1;
      req.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/trpc`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("a call with no answer fails as no answer (no code) once its timeout passes, so the source retries", async () => {
    const calls = trpcSubscriptionCalls(url, undefined, { timeoutMs: 100 });
    const subscribe = calls.subscribe(INPUT);
    await expect(subscribe).rejects.toBeInstanceOf(SubscriptionCallError);
    await expect(subscribe).rejects.toMatchObject({ code: undefined });
    await expect(calls.unsubscribe({ connectionId: INPUT.connectionId, projectId: "p1" })).rejects.toMatchObject({ code: undefined });
    expect(received).toBe(2);
  });
});
