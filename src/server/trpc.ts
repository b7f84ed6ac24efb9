import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import type { Context } from "./context";
import { findProject } from "../db/queries/projects";
import { idSchema } from "../lib/ids";

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? z.flattenError(error.cause as ZodError<Record<string, unknown>>) : null;
    // An unexpected failure's message can carry SQL and ids: it goes to the log, never to the client.
    const message = error.code === "INTERNAL_SERVER_ERROR" ? "Something went wrong on the server. Try again in a moment." : shape.message;
    return { ...shape, message, data: { ...shape.data, zodError } };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Logs failures the client did not cause; user errors (4xx) are expected traffic. */
const logServerErrors = t.middleware(async ({ ctx, path, type, next }) => {
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    ctx.log.error({ path, type, err: result.error.cause ?? result.error }, "procedure failed");
  }
  return result;
});

/** Every procedure needs a session: narrows ctx.user, UNAUTHORIZED otherwise (before input is even parsed). */
const requireUser = t.middleware(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "You are not signed in. Sign in to continue." });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/**
 * The base of every procedure. There is deliberately no public procedure: a procedure that must
 * answer without a session would have to be added here, on purpose, with its own access test.
 */
export const protectedProcedure = t.procedure.use(logServerErrors).use(requireUser);

/**
 * Project-scoped procedures: input must carry the projectId of a project the caller owns.
 * NOT_FOUND for an unknown project, FORBIDDEN for another user's; ctx.project is the loaded row.
 */
export const projectProcedure = protectedProcedure.use(async ({ ctx, path, getRawInput, next }) => {
  const projectId = await projectIdOf(getRawInput);
  const project = await findProject(ctx.db, projectId);
  checkOwner(ctx, path, projectId, project?.ownerId ?? null);
  if (!project) throw new Error("unreachable: checkOwner refuses a missing project");
  return next({ ctx: { ...ctx, project } });
});

/**
 * The same check as projectProcedure for procedures that need the project's id only (the stream
 * router): ctx.projectId. The owner comes from `ctx.projectOwner` when the context has one (the
 * stream authorizer's owner cache, on the node:http path of src/server/stream-rpc.ts), else from the database.
 */
export const projectAccessProcedure = protectedProcedure.use(async ({ ctx, path, getRawInput, next }) => {
  const projectId = await projectIdOf(getRawInput);
  const ownerId = ctx.projectOwner ? await ctx.projectOwner(projectId) : ((await findProject(ctx.db, projectId))?.ownerId ?? null);
  checkOwner(ctx, path, projectId, ownerId);
  return next({ ctx: { ...ctx, projectId } });
});

/**
 * Built once: zod 4 compiles an object schema on its first parse, so a schema made per call cost
 * that compile on every project procedure (~8% of a stream subscribe's CPU, bench/README.md).
 */
const projectInputSchema = z.object({ projectId: idSchema });

async function projectIdOf(getRawInput: () => Promise<unknown>): Promise<string> {
  const parsed = projectInputSchema.safeParse(await getRawInput());
  // The ZodError as cause: the error formatter turns it into field errors.
  if (!parsed.success) throw new TRPCError({ code: "BAD_REQUEST", message: z.prettifyError(parsed.error), cause: parsed.error });
  return parsed.data.projectId;
}

/** NOT_FOUND for an unknown project, FORBIDDEN (logged) for another user's. */
function checkOwner(ctx: Context & { user: { id: string } }, path: string, projectId: string, ownerId: string | null): void {
  if (ownerId === null) throw new TRPCError({ code: "NOT_FOUND", message: `Project ${projectId} does not exist` });
  if (ownerId !== ctx.user.id) {
    ctx.log.warn({ path, projectId, userId: ctx.user.id }, "project access denied");
    throw new TRPCError({ code: "FORBIDDEN", message: "You do not have access to this project." });
  }
}
