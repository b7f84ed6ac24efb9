import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, projectAccessProcedure } from "../trpc";
import { idSchema } from "../../lib/ids";
import { connectionIdSchema, cursorSchema, subscriptionIdSchema, type Cursor } from "../../streaming/protocol";
import type { SubscriptionOutcome } from "../../streaming/types";

type Failure = Extract<SubscriptionOutcome, { ok: false }>;

function refuse(outcome: Failure): never {
  throw new TRPCError({ code: outcome.code, message: outcome.message });
}

/**
 * The subscriptions of a multiplexed stream (`GET /api/stream`). Each is authorized like the
 * per-project stream (projectAccessProcedure: the caller owns the project) and may only touch the
 * caller's own connection; the instance holding the connection does the work (src/streaming/service.ts).
 */
export const streamRouter = createTRPCRouter({
  /**
   * Registers the project on the connection, replays its log after `cursor` (or sends `reset` when
   * the cursor cannot be resumed), then sends `ready {projectId, cursor}` on the stream; resolves
   * after that. No cursor: from the project's head on. Subscribing again replaces the subscription.
   * `subscriptionId` (the client's, optional) comes back in that `ready` or `reset`.
   */
  subscribe: projectAccessProcedure
    .input(
      z.object({
        connectionId: connectionIdSchema,
        projectId: idSchema,
        cursor: cursorSchema.nullish(),
        subscriptionId: subscriptionIdSchema.optional(),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<{ projectId: string; cursor: Cursor; reset: boolean; replayed: number }> => {
      const outcome = await ctx.streaming.subscription({
        op: "subscribe",
        connectionId: input.connectionId,
        userId: ctx.user.id,
        projectId: ctx.projectId,
        ...(input.cursor ? { cursor: input.cursor } : {}),
        ...(input.subscriptionId ? { subscriptionId: input.subscriptionId } : {}),
      });
      if (!outcome.ok) return refuse(outcome);
      if (outcome.op !== "subscribe") throw new Error("subscribe answered as an unsubscribe");
      return { projectId: ctx.projectId, cursor: outcome.cursor, reset: outcome.reset, replayed: outcome.replayed };
    }),

  /** Stops the project's events on the connection (none is written after it resolves). Idempotent: `subscribed` says whether there was one. */
  unsubscribe: projectAccessProcedure
    .input(z.object({ connectionId: connectionIdSchema, projectId: idSchema }))
    .mutation(async ({ ctx, input }): Promise<{ projectId: string; subscribed: boolean }> => {
      const outcome = await ctx.streaming.subscription({
        op: "unsubscribe",
        connectionId: input.connectionId,
        userId: ctx.user.id,
        projectId: ctx.projectId,
      });
      if (!outcome.ok) return refuse(outcome);
      if (outcome.op !== "unsubscribe") throw new Error("unsubscribe answered as a subscribe");
      return { projectId: ctx.projectId, subscribed: outcome.subscribed };
    }),
});
