import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import { errorMessage } from "../lib/errors";
import { idSchema } from "../lib/ids";
import { silentLogger as defaultLogger } from "../lib/logger";
import { cursorSchema, subscriptionIdSchema } from "./protocol";
import { createRedisConnection, quitRedis, untilReady } from "./redis-client";
import type { StreamControl, SubscriptionOutcome, SubscriptionRequest } from "./types";

export interface RedisStreamControlOptions {
  url: string;
  /** The command connection (the event log's), for PUBLISH; control never quits it. */
  redis: Redis;
  /** Names the subscriber connection `genstream:control:<processName>`. */
  processName: string;
  /** How long a forwarded request waits for the holding instance's answer (default 15 s: a subscribe answers after its replay). */
  timeoutMs?: number;
  /** Every Redis command fails after this long (default 2 s). */
  commandTimeoutMs?: number;
  logger?: Logger;
}

const requestSchema = z.object({
  op: z.enum(["subscribe", "unsubscribe"]),
  connectionId: z.string().uuid(),
  userId: z.string().min(1),
  projectId: idSchema,
  cursor: cursorSchema.optional(),
  subscriptionId: subscriptionIdSchema.optional(),
});

const envelopeSchema = z.object({ requestId: z.string().uuid(), replyTo: z.string().min(1), request: requestSchema });

const outcomeSchema = z.union([
  z.object({
    ok: z.literal(true),
    op: z.literal("subscribe"),
    cursor: cursorSchema,
    reset: z.boolean(),
    replayed: z.number().int().nonnegative(),
  }),
  z.object({ ok: z.literal(true), op: z.literal("unsubscribe"), subscribed: z.boolean() }),
  z.object({
    ok: z.literal(false),
    code: z.enum(["PRECONDITION_FAILED", "TOO_MANY_REQUESTS", "CONFLICT", "SERVICE_UNAVAILABLE"]),
    message: z.string(),
  }),
]);

const replySchema = z.object({ requestId: z.string().uuid(), outcome: outcomeSchema });

/** The channel an instance listens on for one connection it holds; PUBLISH's receiver count says whether any instance does. */
function connectionChannel(connectionId: string): string {
  return `gs:control:conn:${connectionId}`;
}

/**
 * Subscription requests between instances over Redis pub/sub. The instance holding a multiplexed
 * connection SUBSCRIBEs to that connection's channel; another instance PUBLISHes the request there
 * (0 receivers: no instance holds it) and awaits the answer on its own reply channel. Pub/sub
 * delivers nothing to an instance that is not listening at that moment, which is what a request
 * needs: it is answered by the holder now, or the caller hears that nobody holds the connection.
 */
export class RedisStreamControl implements StreamControl {
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly replyChannel = `gs:control:reply:${randomUUID()}`;
  private readonly handlers = new Map<string, (request: SubscriptionRequest) => Promise<SubscriptionOutcome>>();
  private readonly waiting = new Map<string, { resolve: (outcome: SubscriptionOutcome) => void; reject: (err: Error) => void }>();
  private listening: Promise<unknown> | undefined;
  private closed = false;

  constructor(options: RedisStreamControlOptions) {
    this.redis = options.redis;
    this.logger = options.logger ?? defaultLogger;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2_000;
    this.subscriber = createRedisConnection({
      url: options.url,
      name: `genstream:control:${options.processName}`,
      logger: this.logger,
      commandTimeoutMs: this.commandTimeoutMs,
    });
    this.subscriber.on("message", (channel: string, message: string) => this.receive(channel, message));
  }

  async hold(connectionId: string, handler: (request: SubscriptionRequest) => Promise<SubscriptionOutcome>): Promise<() => void> {
    const channel = connectionChannel(connectionId);
    this.handlers.set(connectionId, handler);
    try {
      await this.listen(channel);
    } catch (err) {
      this.handlers.delete(connectionId);
      throw err;
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.handlers.delete(connectionId);
      if (this.closed) return;
      this.subscriber.unsubscribe(channel).catch((err: unknown) => {
        this.logger.warn({ connectionId, err: errorMessage(err) }, "stream control unsubscribe failed");
      });
    };
  }

  async send(request: SubscriptionRequest): Promise<SubscriptionOutcome | null> {
    if (this.closed) throw new Error("stream control is closed");
    // Listening for answers before the first request, so no answer can come back unheard.
    this.listening ??= this.listen(this.replyChannel).catch((err: unknown) => {
      this.listening = undefined;
      throw err;
    });
    await this.listening;
    const requestId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<SubscriptionOutcome>((resolve, reject) => {
      this.waiting.set(requestId, { resolve, reject });
      timer = setTimeout(
        () => reject(new Error(`no answer from the instance holding connection ${request.connectionId} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    // Settled by the reply, the timeout, close(), or not at all when nobody holds the connection.
    answered.catch(() => undefined);
    try {
      const receivers = await this.redis.publish(
        connectionChannel(request.connectionId),
        JSON.stringify({ requestId, replyTo: this.replyChannel, request }),
      );
      if (receivers === 0) return null;
      return await answered;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(requestId);
    }
  }

  /** SUBSCRIBE, never during the connection's handshake: such a SUBSCRIBE is lost with the connection (untilReady). */
  private async listen(channel: string): Promise<void> {
    await untilReady(this.subscriber, this.commandTimeoutMs);
    await this.subscriber.subscribe(channel);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { reject } of this.waiting.values()) reject(new Error("stream control is closed"));
    this.waiting.clear();
    this.handlers.clear();
    await quitRedis(this.subscriber);
  }

  private receive(channel: string, message: string): void {
    if (channel === this.replyChannel) return this.answer(message);
    const parsed = envelopeSchema.safeParse(parseJson(message));
    if (!parsed.success) {
      this.logger.warn({ channel, err: z.prettifyError(parsed.error) }, "stream control request invalid");
      return;
    }
    const { requestId, replyTo, request } = parsed.data;
    const handler = this.handlers.get(request.connectionId);
    const outcome: Promise<SubscriptionOutcome> = handler
      ? handler(request)
      : // Released between PUBLISH and delivery: the connection just closed.
        Promise.resolve({ ok: false, code: "PRECONDITION_FAILED", message: `Stream connection ${request.connectionId} is not open` });
    void outcome
      .then((answer) => this.redis.publish(replyTo, JSON.stringify({ requestId, outcome: answer })))
      .catch((err: unknown) => {
        this.logger.warn({ connectionId: request.connectionId, err: errorMessage(err) }, "stream control answer failed");
      });
  }

  private answer(message: string): void {
    const parsed = replySchema.safeParse(parseJson(message));
    if (!parsed.success) {
      this.logger.warn({ err: z.prettifyError(parsed.error) }, "stream control answer invalid");
      return;
    }
    this.waiting.get(parsed.data.requestId)?.resolve(parsed.data.outcome);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
