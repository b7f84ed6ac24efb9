import { createCallerFactory, createTRPCRouter } from "./trpc";
import { projectRouter } from "./routers/project";
import { messageRouter } from "./routers/message";
import { generationRouter } from "./routers/generation";
import { streamRouter } from "./routers/stream";

export const appRouter = createTRPCRouter({
  project: projectRouter,
  message: messageRouter,
  generation: generationRouter,
  stream: streamRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
