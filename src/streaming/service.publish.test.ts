import { afterEach, describe, expect, it } from "vitest";
import { InvalidEventError } from "./errors";
import type { ProgressEvent } from "./protocol";
import { progressEvent, setup, type Harness } from "./test-harness";

const P = "proj-a";
let t: Harness | undefined;
afterEach(async () => {
  await t?.teardown();
  t = undefined;
});

describe("StreamingService.publish", () => {
  it("rejects an invalid event with InvalidEventError and logs nothing", async () => {
    t = await setup();
    const head = await t.service.head(P);
    const bad = { type: "step.progress", projectId: P, runId: "r" } as unknown as ProgressEvent;
    const err = await t.service.publish(P, "k1", bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventError);
    expect((err as InvalidEventError).issues.length).toBeGreaterThan(0);
    await expect(t.service.publish(P, "", progressEvent(P, 1))).rejects.toBeInstanceOf(InvalidEventError);
    await expect(t.service.publish("proj-b", "k1", progressEvent(P, 1))).rejects.toBeInstanceOf(InvalidEventError);
    expect(await t.service.head(P)).toBe(head);
  });

  it("returns null for an already-logged key and connections receive the event once", async () => {
    t = await setup();
    const { client } = await t.openReady(P);
    const first = await t.service.publish(P, "run-1:plan:0", progressEvent(P, 1));
    expect(await t.service.publish(P, "run-1:plan:0", progressEvent(P, 1))).toBeNull();
    const second = await t.service.publish(P, "run-1:plan:1", progressEvent(P, 2));
    await client.waitForId(second?.id ?? "");
    expect(client.sequence()).toEqual(["ready", `step.progress#${first?.id}`, `step.progress#${second?.id}`]);
  });
});
