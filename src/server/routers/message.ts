import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, projectProcedure } from "../trpc";
import { idSchema } from "../../lib/ids";
import { findMessage, insertUserMessageWithinRate, listMessages, setDispatch } from "../../db/queries/messages";
import type { Context } from "../context";
import type { Message } from "../../db/schema";
import { JobEngineUnavailableError } from "../jobs";
import { toMessageView } from "../snapshots";
import { limitMessages, limits } from "../limits";
import { hasNoNul } from "../text-input";
import { errorMessage } from "../../lib/errors";
import { connectionIdSchema } from "../../streaming/protocol";

export const messageContentSchema = z
  .string()
  .trim()
  .min(1, "Message cannot be empty")
  .max(limits.messageMaxChars, limitMessages.messageTooLong())
  .refine(hasNoNul, "Message must not contain NUL characters");

const STREAM_NOT_CONNECTED = "The live stream for this project is not connected yet. Wait for it to reconnect, then send again.";

/**
 * Whether the caller's stream is registered for the project: a per-project stream of it, or a
 * multiplexed connection subscribed to it (both are in the project's registry and presence). "unavailable": presence lives in Redis
 * when scaled out, and while Redis is down a connection held by another instance cannot be confirmed.
 */
async function connectionState(
  ctx: Context,
  projectId: string,
  connectionId: string,
): Promise<"connected" | "not-connected" | "unavailable"> {
  try {
    return (await ctx.streaming.isConnected(projectId, connectionId)) ? "connected" : "not-connected";
  } catch (error) {
    ctx.log.warn({ projectId, connectionId, err: errorMessage(error) }, "stream presence unavailable");
    return "unavailable";
  }
}

async function requireConnection(ctx: Context, projectId: string, connectionId: string): Promise<void> {
  const state = await connectionState(ctx, projectId, connectionId);
  if (state === "unavailable") {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: "Live progress is temporarily unavailable; try again in a moment." });
  }
  if (state === "not-connected") throw new TRPCError({ code: "PRECONDITION_FAILED", message: STREAM_NOT_CONNECTED });
}

/** Hands a stored message to the job engine; on failure it stays stored as `failed`, to be retried. */
async function dispatch(ctx: Context, message: Message): Promise<void> {
  let eventId: string | null;
  try {
    ({ eventId } = await ctx.jobs.iterate({ projectId: message.projectId, messageId: message.id }));
  } catch (error) {
    await setDispatch(ctx.db, message.id, "failed");
    ctx.log.error({ projectId: message.projectId, messageId: message.id, err: error }, "job dispatch failed");
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: `Your message is saved, but ${error instanceof JobEngineUnavailableError ? error.message.replace(/^The/, "the") : "the job engine is unavailable"}. Retry it from the conversation once the service is back.`,
      cause: error,
    });
  }
  await setDispatch(ctx.db, message.id, "dispatched", eventId);
}

export const messageRouter = createTRPCRouter({
  list: projectProcedure.input(z.object({ projectId: idSchema })).query(async ({ ctx }) => {
    const rows = await listMessages(ctx.db, ctx.project.id);
    return rows.map(toMessageView);
  }),

  /**
   * Stores the message and starts the job — but only for a caller whose stream is registered for
   * this project, so the job's first event cannot be emitted before anyone listens.
   */
  send: projectProcedure
    .input(
      z.object({
        projectId: idSchema,
        content: messageContentSchema,
        connectionId: connectionIdSchema,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const connection = await connectionState(ctx, ctx.project.id, input.connectionId);
      if (connection === "not-connected") throw new TRPCError({ code: "PRECONDITION_FAILED", message: STREAM_NOT_CONNECTED });
      const message = await insertUserMessageWithinRate(ctx.db, {
        ownerId: ctx.user.id,
        projectId: ctx.project.id,
        content: input.content,
        perMinute: limits.messagesPerMinute,
      });
      if (!message) {
        ctx.log.info({ userId: ctx.user.id, projectId: ctx.project.id, limit: limits.messagesPerMinute }, "message rate limit reached");
        throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: limitMessages.tooManyMessages() });
      }
      if (connection === "unavailable") {
        // Nothing the user sent is lost: the message is stored, not started (no listener could be
        // confirmed for its first event), and offered for retry once the event log is back.
        await setDispatch(ctx.db, message.id, "failed");
        ctx.log.warn({ projectId: ctx.project.id, messageId: message.id }, "message stored, not dispatched: event log unavailable");
        throw new TRPCError({
          code: "SERVICE_UNAVAILABLE",
          message:
            "Your message is saved, but live progress is temporarily unavailable (the event log cannot be reached). Retry it from the conversation once the service is back.",
        });
      }
      await dispatch(ctx, message);
      ctx.log.info({ projectId: ctx.project.id, messageId: message.id, connectionId: input.connectionId }, "message sent");
      return toMessageView({ ...message, dispatch: "dispatched" });
    }),

  /** Dispatches again a stored message the job engine did not accept. Idempotent per message. */
  retry: projectProcedure
    .input(z.object({ projectId: idSchema, messageId: idSchema, connectionId: connectionIdSchema }))
    .mutation(async ({ ctx, input }) => {
      const message = await findMessage(ctx.db, input.messageId);
      if (!message || message.projectId !== ctx.project.id || message.role !== "user") {
        throw new TRPCError({ code: "NOT_FOUND", message: `Message ${input.messageId} does not exist in this project` });
      }
      if (message.dispatch === "dispatched") throw new TRPCError({ code: "CONFLICT", message: "This message was already delivered" });
      await requireConnection(ctx, ctx.project.id, input.connectionId);
      await dispatch(ctx, message);
      ctx.log.info({ projectId: ctx.project.id, messageId: message.id }, "message re-dispatched");
      return toMessageView({ ...message, dispatch: "dispatched" });
    }),
});
