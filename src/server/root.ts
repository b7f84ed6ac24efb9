import { createCallerFactory, createTRPCRouter } from "./trpc";
import { projectRouter } from "./routers/project";
import { messageRouter } from "./routers/message";
import { generationRouter } from "./routers/generation";

export const appRouter = createTRPCRouter({
  project: projectRouter,
  message: messageRouter,
  generation: generationRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
