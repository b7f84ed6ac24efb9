import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../../server/root";
import { SubscriptionCallError, type SubscriptionCalls } from "./holder";

/**
 * The holder's `stream.subscribe` / `stream.unsubscribe`, over plain tRPC HTTP from wherever it runs
 * (a SharedWorker has no React). One request per call, unbatched: a subscribe answers only after
 * its replay, and must not hold back another project's.
 */
export function trpcSubscriptionCalls(url = "/api/trpc", headers?: Record<string, string>): SubscriptionCalls {
  // `headers`: for a client outside a browser (Node), which has no cookie jar.
  const client = createTRPCClient<AppRouter>({ links: [httpLink({ url, transformer: superjson, ...(headers ? { headers } : {}) })] });
  const wrap = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof TRPCClientError) {
        const data: unknown = error.data;
        const code = typeof data === "object" && data !== null && "code" in data && typeof data.code === "string" ? data.code : undefined;
        throw new SubscriptionCallError(code, error.message);
      }
      throw new SubscriptionCallError(undefined, error instanceof Error ? error.message : String(error));
    }
  };
  return {
    subscribe: (input) => wrap(() => client.stream.subscribe.mutate(input)),
    unsubscribe: (input) => wrap(() => client.stream.unsubscribe.mutate(input)),
  };
}
