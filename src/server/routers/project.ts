import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createTRPCRouter, projectProcedure, protectedProcedure } from "../trpc";
import { idSchema } from "../../lib/ids";
import { createProjectWithinQuota, listProjects } from "../../db/queries/projects";
import { listRuns } from "../../db/queries/runs";
import { toRunSnapshot, withStepTexts } from "../snapshots";
import { limitMessages, limits } from "../limits";
import { hasNoNul } from "../text-input";

export const projectNameSchema = z
  .string()
  .trim()
  .min(1, "Name cannot be empty")
  .max(limits.projectNameMaxChars, limitMessages.projectNameTooLong())
  .refine(hasNoNul, "Name must not contain NUL characters");

export const projectRouter = createTRPCRouter({
  /** The caller's own projects; nobody else's ever appear here. */
  list: protectedProcedure.query(({ ctx }) => listProjects(ctx.db, ctx.user.id)),

  create: protectedProcedure.input(z.object({ name: projectNameSchema })).mutation(async ({ ctx, input }) => {
    const project = await createProjectWithinQuota(ctx.db, ctx.user.id, input.name, limits.projectsPerUser);
    if (!project) {
      ctx.log.info({ userId: ctx.user.id, limit: limits.projectsPerUser }, "project quota reached");
      throw new TRPCError({ code: "FORBIDDEN", message: limitMessages.tooManyProjects() });
    }
    ctx.log.info({ projectId: project.id, userId: ctx.user.id }, "project created");
    return project;
  }),

  /**
   * The project with its runs and the stream cursor. The cursor is read BEFORE the runs, and steps
   * write the database before they publish, so replay after this cursor never leaves a gap. A
   * running run's text so far comes from the log, read after the cursor too (withStepTexts).
   */
  get: projectProcedure.input(z.object({ projectId: idSchema })).query(async ({ ctx }) => {
    const cursor = await ctx.streaming.head(ctx.project.id);
    const runs = (await listRuns(ctx.db, ctx.project.id)).map(toRunSnapshot);
    const running = runs.some((r) => r.status === "running");
    return { project: ctx.project, cursor, runs: running ? withStepTexts(runs, await ctx.streaming.retained(ctx.project.id)) : runs };
  }),
});
