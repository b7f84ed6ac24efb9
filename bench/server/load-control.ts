import { setTimeout as paceUntilDue } from "node:timers/promises";
import { z } from "zod";
import type { StreamingService } from "../../src/streaming/service";
import { json, projectControlPath, readJson, type TestControl } from "../../src/server/test-controls";

/**
 * The benchmark's load generator, mounted by server.ts among the test controls (only with
 * GENSTREAM_TEST_CONTROLS=1): `POST /api/test/projects/:id/publish` publishes `count` step.progress
 * events through the same streaming service the Inngest steps use. `message` carries
 * `bench|<tag>|<i>|<stamp>`, the stamp being the wall clock in ms (fractional: performance.timeOrigin
 * + performance.now()) taken just before publish, or, with `ratePerSec`, the time the event was due
 * (open loop: a server that falls behind shows it as latency). Answers with the time from publish to
 * the end of the tick that flushes the writes (memory log: the whole fan-out).
 */
const publishSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  payloadBytes: z.number().int().min(0).max(65_536).default(0),
  tag: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  ratePerSec: z.number().positive().max(1_000_000).optional(),
});

const PUBLISH = projectControlPath("publish");

export function benchLoadControl(streaming: StreamingService): TestControl {
  return async (req, res, url) => {
    const match = req.method === "POST" ? PUBLISH.exec(url.pathname) : null;
    if (!match?.[1]) return false;
    const input = publishSchema.safeParse(await readJson(req));
    if (!input.success) json(res, 400, { error: input.error.message });
    else json(res, 200, await publishBenchEvents(streaming, match[1], input.data));
    return true;
  };
}

interface PublishResult {
  published: number;
  publishMs: number;
  maxPublishMs: number;
}

async function publishBenchEvents(
  streaming: StreamingService,
  projectId: string,
  input: z.infer<typeof publishSchema>,
): Promise<PublishResult> {
  const partial = input.payloadBytes > 0 ? { partial: "x".repeat(input.payloadBytes) } : {};
  const intervalMs = input.ratePerSec ? 1000 / input.ratePerSec : 0;
  const start = performance.timeOrigin + performance.now();
  const result: PublishResult = { published: 0, publishMs: 0, maxPublishMs: 0 };
  for (let i = 0; i < input.count; i++) {
    const due = start + i * intervalMs;
    // Open-loop rate schedule of the load generator (not synchronisation): event i is due at
    // start + i / rate, whatever the stream path is doing, so a slow path shows up as lag.
    const ahead = due - (performance.timeOrigin + performance.now());
    if (ahead > 0) await paceUntilDue(Math.ceil(ahead));
    const before = performance.now();
    const stamp = intervalMs > 0 ? due : performance.timeOrigin + before;
    const logged = await streaming.publish(projectId, `bench:${input.tag}:${i}`, {
      type: "step.progress",
      projectId,
      runId: `bench-${input.tag}`,
      messageId: `bench-${input.tag}`,
      at: Math.floor(stamp),
      step: "plan",
      message: `bench|${input.tag}|${i}|${stamp.toFixed(3)}`,
      ...partial,
    });
    // Node flushes the corked response writes on the next tick: wait for them, so the time includes every write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const took = performance.now() - before;
    result.publishMs += took;
    result.maxPublishMs = Math.max(result.maxPublishMs, took);
    if (logged) result.published++;
  }
  return result;
}
