import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../../server/root";
import { SubscriptionCallError, type SubscriptionCalls } from "./holder";

/**
 * A call with no answer by then (a socket that went half-open) fails like no answer at all, and the
 * source retries: the holder chains a project's calls, so one hung call would hold back the rest.
 */
const CALL_TIMEOUT_MS = 20_000;

/**
 * The holder's `stream.subscribe` / `stream.unsubscribe`, over plain tRPC HTTP from wherever it runs
 * (a SharedWorker has no React). One request per call, unbatched: a subscribe answers only after
 * its replay, and must not hold back another project's.
 */
export function trpcSubscriptionCalls(
  url = "/api/trpc",
  headers?: Record<string, string>,
  { timeoutMs = CALL_TIMEOUT_MS }: { timeoutMs?: number } = {},
): SubscriptionCalls {
  // `headers`: for a client outside a browser (Node), which has no cookie jar.
  const client = createTRPCClient<AppRouter>({ links: [httpLink({ url, transformer: superjson, ...(headers ? { headers } : {}) })] });
  const wrap = async <T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    // Not AbortSignal.timeout: the fallback holders run in browsers older than it (Safari < 16).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    try {
      return await call(abort.signal);
    } catch (error) {
      if (error instanceof TRPCClientError) {
        const data: unknown = error.data;
        const code = typeof data === "object" && data !== null && "code" in data && typeof data.code === "string" ? data.code : undefined;
        throw new SubscriptionCallError(code, error.message);
      }
      throw new SubscriptionCallError(undefined, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    subscribe: (input) => wrap((signal) => client.stream.subscribe.mutate(input, { signal })),
    unsubscribe: (input) => wrap((signal) => client.stream.unsubscribe.mutate(input, { signal })),
  };
}
