import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as paceUntilDue } from "node:timers/promises";
import { z } from "zod";
import { env } from "../lib/env";
import { log } from "../lib/logger";
import { getStreamingService } from "../streaming";
import { addFault, faultReleaseSchema, faultSpecSchema, releaseFaults } from "./faults";
import { resolveTestControls, type TestControlsGate } from "./test-controls-gate";

/**
 * Test-only stream controls (fault injection for the end-to-end suite, load for `npm run bench`).
 * They exist only when GENSTREAM_TEST_CONTROLS=1, which no deployment sets; in production only
 * with a per-run token on a loopback address (see test-controls-gate.ts, which server.ts checks
 * before anything else, refusing to start otherwise).
 */
export function testControlsGate(): TestControlsGate {
  return resolveTestControls(env);
}

export function testControlsEnabled(): boolean {
  return testControlsGate().enabled;
}

const CLOSE_STREAMS = /^\/api\/test\/projects\/([A-Za-z0-9_-]{1,64})\/close-streams$/;
const READ_LOG = /^\/api\/test\/projects\/([A-Za-z0-9_-]{1,64})\/log$/;
const PUBLISH = /^\/api\/test\/projects\/([A-Za-z0-9_-]{1,64})\/publish$/;

/**
 * Benchmark load: `count` step.progress events through the same streaming service the Inngest steps
 * use. `message` carries `bench|<tag>|<i>|<stamp>`, the stamp being the wall clock in ms (fractional:
 * performance.timeOrigin + performance.now()) taken just before publish, or, with `ratePerSec`, the
 * time the event was due (open loop: a server that falls behind shows it as latency). Answers with
 * the time from publish to the end of the tick that flushes the writes (memory log: the whole fan-out).
 */
const publishSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  payloadBytes: z.number().int().min(0).max(65_536).default(0),
  tag: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  ratePerSec: z.number().positive().max(1_000_000).optional(),
});

export async function handleTestControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method === "POST" && url.pathname.startsWith("/api/test/faults")) return handleFaultControl(req, res, url.pathname);
  const logMatch = req.method === "GET" ? READ_LOG.exec(url.pathname) : null;
  if (logMatch?.[1]) {
    const events = await getStreamingService().retained(logMatch[1]);
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ events }));
    return;
  }
  const publishMatch = req.method === "POST" ? PUBLISH.exec(url.pathname) : null;
  if (publishMatch?.[1]) {
    const input = publishSchema.safeParse(await readJson(req));
    if (!input.success) {
      res.writeHead(400, { "Content-Type": "application/json" }).end(JSON.stringify({ error: input.error.message }));
      return;
    }
    const result = await publishBenchEvents(publishMatch[1], input.data);
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(result));
    return;
  }
  const match = req.method === "POST" ? CLOSE_STREAMS.exec(url.pathname) : null;
  if (!match?.[1]) {
    res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "unknown test control" }));
    return;
  }
  const closed = getStreamingService().closeProject(match[1], "test-control");
  log.warn({ projectId: match[1], closed }, "test control closed streams");
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ closed }));
}

/**
 * `POST /api/test/faults` `{ projectId, step, kind: "fail-once" | "hold", at? }` registers a fault
 * (see faults.ts); `POST /api/test/faults/release` `{ projectId, step? }` releases holds.
 */
async function handleFaultControl(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const body = await readJson(req);
  if (pathname === "/api/test/faults") {
    const spec = faultSpecSchema.safeParse(body);
    if (!spec.success) return json(res, 400, { error: z.prettifyError(spec.error) });
    return json(res, 200, { id: addFault(spec.data) });
  }
  if (pathname === "/api/test/faults/release") {
    const input = faultReleaseSchema.safeParse(body);
    if (!input.success) return json(res, 400, { error: z.prettifyError(input.error) });
    return json(res, 200, { released: releaseFaults(input.data.projectId, input.data.step) });
  }
  json(res, 404, { error: "unknown test control" });
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

interface PublishResult {
  published: number;
  publishMs: number;
  maxPublishMs: number;
}

async function publishBenchEvents(projectId: string, input: z.infer<typeof publishSchema>): Promise<PublishResult> {
  const streaming = getStreamingService();
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

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return null;
  }
}
