"use client";

import { useQueryClient } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import { useCallback, useRef, useState } from "react";
import { api } from "@/src/trpc/react";
import type { AppRouter } from "@/src/server/root";
import type { ChatMessage } from "@/components/message-list";
import { errorMessage } from "../src/lib/errors";

export type SendState =
  { phase: "idle" } | { phase: "waiting" } | { phase: "sending" } | { phase: "error"; message: string; retryable: boolean };

/** Codes after which sending the same message again can succeed. */
const RETRYABLE = new Set(["PRECONDITION_FAILED", "INTERNAL_SERVER_ERROR", "TIMEOUT"]);

/** The message was stored but not handed to the job engine: it is retried from the conversation. */
function wasStored(error: unknown): boolean {
  return error instanceof TRPCClientError && (error as TRPCClientError<AppRouter>).data?.code === "SERVICE_UNAVAILABLE";
}

function describe(error: unknown): { message: string; retryable: boolean } {
  if (error instanceof TRPCClientError) {
    const e = error as TRPCClientError<AppRouter>;
    const field = e.data?.zodError?.fieldErrors;
    const fieldMessage = field ? Object.values(field).flat()[0] : undefined;
    const code = e.data?.code;
    // No code means the request never got an answer (network): worth a retry.
    return { message: fieldMessage ?? e.message, retryable: code === undefined || RETRYABLE.has(code) };
  }
  return { message: errorMessage(error), retryable: true };
}

/**
 * Sends a chat message only once the project's stream is confirmed ready (bounded wait), so the
 * job's first event always has a listener. Shows the message at once (optimistic) and keeps the
 * text on failure.
 */
export function useSendMessage({
  projectId,
  waitUntilReady,
  retryStream,
}: {
  projectId: string;
  waitUntilReady: () => Promise<{ connectionId: string }>;
  retryStream: () => void;
}) {
  const utils = api.useUtils();
  const queryClient = useQueryClient();
  const mutation = api.message.send.useMutation();
  const [state, setState] = useState<SendState>({ phase: "idle" });
  const [pending, setPending] = useState<ChatMessage[]>([]);
  const last = useRef<string | null>(null);

  const send = useCallback(
    async (content: string): Promise<boolean> => {
      last.current = content;
      const optimistic: ChatMessage = {
        id: `optimistic-${crypto.randomUUID()}`,
        role: "user",
        content: content.trim(),
        runId: null,
        artifactVersion: null,
        dispatch: "pending",
        createdAt: new Date(),
        optimistic: true,
      };
      setPending((p) => [...p, optimistic]);
      const drop = () => setPending((p) => p.filter((m) => m.id !== optimistic.id));
      try {
        setState({ phase: "waiting" });
        const { connectionId } = await waitUntilReady();
        setState({ phase: "sending" });
        const message = await mutation.mutateAsync({ projectId, content, connectionId });
        utils.message.list.setData({ projectId }, (old) => (old && !old.some((m) => m.id === message.id) ? [...old, message] : old));
        drop();
        setState({ phase: "idle" });
        last.current = null;
        return true;
      } catch (error) {
        drop();
        setState({ phase: "error", ...describe(error) });
        // A message stored before the failure (job engine down) shows in the list with its own retry.
        void utils.message.list.invalidate({ projectId });
        if (wasStored(error)) {
          // A dependency is down: refresh the health banner now rather than at its next poll.
          void queryClient.invalidateQueries({ queryKey: ["health"] });
          last.current = null;
          return true;
        }
        return false;
      }
    },
    [projectId, waitUntilReady, mutation, utils, queryClient],
  );

  const retry = useCallback(async (): Promise<boolean> => {
    retryStream();
    return last.current === null ? false : send(last.current);
  }, [retryStream, send]);

  return { send, retry, state, pending };
}
