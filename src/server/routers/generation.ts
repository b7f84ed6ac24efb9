import { TRPCError } from "@trpc/server";
import { isEventLogOutage, publishThroughOutage } from "../../streaming/guarded-log";
import { z } from "zod";
import { createTRPCRouter, projectProcedure } from "../trpc";
import { idSchema } from "../../lib/ids";
import { findArtifact } from "../../db/queries/artifacts";
import { findRun, finishRun } from "../../db/queries/runs";
import { JobEngineUnavailableError } from "../jobs";
import { errorMessage } from "../../lib/errors";

export const generationRouter = createTRPCRouter({
  /** One stored version of the project's generated API: plan, OpenAPI document and TypeScript files. */
  artifact: projectProcedure
    .input(z.object({ projectId: idSchema, version: z.number().int().positive().max(2_147_483_647, "version is out of range") }))
    .query(async ({ ctx, input }) => {
      const artifact = await findArtifact(ctx.db, ctx.project.id, input.version);
      if (!artifact) throw new TRPCError({ code: "NOT_FOUND", message: `Version ${input.version} does not exist` });
      return { version: artifact.version, openapi: artifact.openapi, files: artifact.files, createdAt: artifact.createdAt };
    }),

  /**
   * Cancels a running generation. The job engine stops it at its next step boundary (cancelOn);
   * the run is stored as cancelled and every tab receives run.cancelled.
   */
  cancel: projectProcedure
    .input(z.object({ projectId: idSchema, runId: idSchema }))
    .mutation(async ({ ctx, input }) => {
      const run = await findRun(ctx.db, input.runId);
      if (!run || run.projectId !== ctx.project.id) {
        throw new TRPCError({ code: "NOT_FOUND", message: `Run ${input.runId} does not exist in this project` });
      }
      if (run.status !== "running") {
        throw new TRPCError({ code: "CONFLICT", message: `Run is already ${run.status}` });
      }
      try {
        await ctx.jobs.cancel({ projectId: run.projectId, messageId: run.messageId, runId: run.id });
      } catch (error) {
        throw new TRPCError({
          code: "SERVICE_UNAVAILABLE",
          message: error instanceof JobEngineUnavailableError ? error.message : "The job engine is unavailable",
          cause: error,
        });
      }
      const reason = "Cancelled by the user";
      const finished = await finishRun(ctx.db, run.id, "cancelled", reason);
      if (!finished) throw new TRPCError({ code: "CONFLICT", message: "Run finished before it could be cancelled" });
      const publishCancelled = () =>
        ctx.streaming.publish(run.projectId, `${run.id}:run.cancelled`, {
          type: "run.cancelled",
          projectId: run.projectId,
          runId: run.id,
          messageId: run.messageId,
          at: Date.now(),
          reason,
        });
      try {
        await publishCancelled();
      } catch (error) {
        if (!isEventLogOutage(error)) throw error;
        // The cancel is done and stored; the event follows once the log is back (idempotent by key).
        const context = { projectId: run.projectId, runId: run.id };
        ctx.log.warn({ ...context, err: errorMessage(error) }, "run cancelled; run.cancelled deferred until the event log is back");
        void publishThroughOutage(publishCancelled, { logger: ctx.log, context }).catch((err: unknown) =>
          ctx.log.error({ ...context, err: errorMessage(err) }, "run.cancelled could not be published"),
        );
      }
      ctx.metrics.runDuration.observe({ outcome: "cancelled" }, (Date.now() - run.startedAt.getTime()) / 1000);
      ctx.log.info({ projectId: run.projectId, runId: run.id }, "run cancelled");
      return { runId: run.id, status: "cancelled" as const };
    }),
});
