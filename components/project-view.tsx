"use client";

import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, type RouterOutputs } from "@/src/trpc/react";
import { useGenerationStream } from "@/hooks/use-generation-stream";
import { useSendMessage } from "@/hooks/use-send-message";
import type { RunSnapshot } from "@/src/client/run-snapshot";
import { ConnectionIndicator } from "./connection-indicator";
import { Composer } from "./composer";
import { MessageList, type ChatMessage } from "./message-list";
import { RunPanel } from "./run-panel";

type Project = RouterOutputs["project"]["get"]["project"];
type Messages = RouterOutputs["message"]["list"];

export function ProjectView({
  project,
  initialCursor,
  initialRuns,
  initialMessages,
}: {
  project: Project;
  initialCursor: string;
  initialRuns: RunSnapshot[];
  initialMessages: Messages;
}) {
  const utils = api.useUtils();
  const messages = api.message.list.useQuery({ projectId: project.id }, { initialData: initialMessages });

  // After a `reset` the stream's gap is unknown: rebuild from the database, then continue live.
  const onReset = useCallback(async () => {
    const [state] = await Promise.all([
      utils.project.get.fetch({ projectId: project.id }, { staleTime: 0 }),
      utils.message.list.invalidate({ projectId: project.id }),
    ]);
    return { runs: state.runs, cursor: state.cursor };
  }, [utils, project.id]);

  const stream = useGenerationStream({ projectId: project.id, initialCursor, initialRuns, onReset });
  const sender = useSendMessage({ projectId: project.id, waitUntilReady: stream.waitUntilReady, retryStream: stream.retry });
  const cancel = api.generation.cancel.useMutation();
  const queryClient = useQueryClient();
  const retryMessage = api.message.retry.useMutation({
    onSettled: () =>
      Promise.all([utils.message.list.invalidate({ projectId: project.id }), queryClient.invalidateQueries({ queryKey: ["health"] })]),
  });
  const onRetryMessage = useCallback(
    async (messageId: string) => {
      const { connectionId } = await stream.waitUntilReady();
      retryMessage.mutate({ projectId: project.id, messageId, connectionId });
    },
    [stream, retryMessage, project.id],
  );

  const latest = stream.runs[stream.runs.length - 1];
  // Retry of a run that failed or was cancelled: its message, sent again (a new run, the same send path).
  const retryContent = latest ? messages.data.find((m) => m.id === latest.messageId)?.content : undefined;
  const retryRun = retryContent === undefined ? undefined : () => void sender.send(retryContent);
  const finishedRuns = stream.runs.filter((r) => r.status !== "running").length;
  // A run that finished wrote an assistant message: fetch it.
  useEffect(() => {
    if (finishedRuns > 0) void utils.message.list.invalidate({ projectId: project.id });
  }, [finishedRuns, utils, project.id]);
  // A run of a message this tab has not seen (sent from another tab): fetch it as the run starts, not when it ends.
  const unseenMessage = useMemo(() => {
    const seen = new Set(messages.data.map((m) => m.id));
    return stream.runs.some((r) => !seen.has(r.messageId));
  }, [stream.runs, messages.data]);
  useEffect(() => {
    if (unseenMessage) void utils.message.list.invalidate({ projectId: project.id });
  }, [unseenMessage, utils, project.id]);

  const [now, setNow] = useState(() => Date.now());
  const running = latest?.status === "running";
  useEffect(() => {
    if (!running) return;
    const ticker = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(ticker);
  }, [running]);

  const allMessages: ChatMessage[] = useMemo(() => [...messages.data, ...sender.pending], [messages.data, sender.pending]);

  return (
    <div className="stack">
      <div className="row" style={{ justifyContent: "space-between" }}>
        <div className="row">
          <Link href="/">Projects</Link>
          <span className="muted">/</span>
          <h1 style={{ margin: 0, fontSize: 20 }} data-testid="project-title">
            {project.name}
          </h1>
        </div>
        <ConnectionIndicator
          status={stream.status}
          holder={stream.holder}
          error={stream.lastError?.message ?? null}
          onRetry={stream.retry}
        />
      </div>
      <div className="project-layout">
        <section className="card stack">
          <MessageList
            projectId={project.id}
            messages={allMessages}
            onRetry={(id) => void onRetryMessage(id).catch(() => undefined)}
            retrying={retryMessage.isPending}
          />
          {retryMessage.error && (
            <p className="error" role="alert" data-testid="message-retry-error">
              {retryMessage.error.message}
            </p>
          )}
          <Composer ready={stream.status === "ready"} state={sender.state} onSend={sender.send} onRetry={sender.retry} />
        </section>
        <div className="stack">
          <RunPanel
            run={latest}
            now={now}
            cancelling={cancel.isPending}
            onCancel={(runId) => cancel.mutate({ projectId: project.id, runId })}
            onRetry={retryRun}
            retrying={sender.state.phase === "waiting" || sender.state.phase === "sending"}
          />
          {cancel.error && (
            <p className="error" role="alert" data-testid="cancel-error">
              {cancel.error.message}
            </p>
          )}
          <p
            className="muted"
            style={{ fontSize: 12 }}
            data-testid="stream-cursor"
            data-cursor={stream.cursor ?? ""}
            data-connection-id={stream.connectionId ?? ""}
            data-received={stream.applied}
          >
            {stream.applied} live events received
          </p>
        </div>
      </div>
    </div>
  );
}
