import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, projectProcedure } from "../trpc";
import { idSchema } from "../../lib/ids";
import { findArtifact } from "../../db/queries/artifacts";
import { findRun } from "../../db/queries/runs";
import { JobEngineUnavailableError } from "../jobs";
import { RunReporter } from "../../../inngest/run-reporter";

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
   * the run is stored as cancelled (with the assistant's reply) and every tab receives run.cancelled.
   */
  cancel: projectProcedure.input(z.object({ projectId: idSchema, runId: idSchema })).mutation(async ({ ctx, input }) => {
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
    // Stored at once; during an event log outage run.cancelled follows in the background.
    const reporter = new RunReporter(
      { db: ctx.db, streaming: ctx.streaming, log: ctx.log, metrics: ctx.metrics },
      { projectId: run.projectId, messageId: run.messageId, runId: run.id },
    );
    const finished = await reporter.finish({ status: "cancelled", reason: "Cancelled by the user" }, { whenLogDown: "defer" });
    if (!finished.finishedNow) throw new TRPCError({ code: "CONFLICT", message: "Run finished before it could be cancelled" });
    return { runId: run.id, status: "cancelled" as const };
  }),
});
