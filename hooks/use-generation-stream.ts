"use client";

import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { RunSnapshot } from "../src/client/run-snapshot";
import type { RunView } from "../src/client/run-state";
import { sharedStream, type StreamHolderKind } from "../src/client/shared-stream/connect";
import { GenerationStreamClient, type GenerationStreamClientOptions } from "../src/client/stream-client";
import { StreamNotReadyError, type StreamError } from "../src/client/stream-errors";
import { initialStreamSnapshot, type StreamStatus } from "../src/client/stream-snapshot";

export type { StreamStatus } from "../src/client/stream-snapshot";
export { StreamNotReadyError } from "../src/client/stream-errors";

export interface UseGenerationStreamOptions {
  projectId: string;
  /** The cursor the page was rendered at, so the stream starts exactly where the page left off. */
  initialCursor: string | null;
  /** The runs the page was rendered with. */
  initialRuns?: readonly RunSnapshot[];
  /** Refetch after a `reset`; return `{ runs, cursor }` to replace the state. */
  onReset?: GenerationStreamClientOptions["onReset"];
}

export interface GenerationStream {
  status: StreamStatus;
  connectionId: string | null;
  cursor: string | null;
  runs: readonly RunView[];
  lastError: StreamError | null;
  /** How many progress events this tab applied. */
  applied: number;
  /** Who holds the browser's one stream connection for this tab; null until the stream starts (server render). */
  holder: StreamHolderKind | null;
  waitUntilReady: (timeoutMs?: number) => Promise<{ connectionId: string }>;
  retry: () => void;
}

const noopUnsubscribe = () => {};

/**
 * Live progress of a project's generation runs, over the browser's one shared stream connection
 * (src/client/shared-stream). One client per projectId, opened after mount and
 * closed on unmount; the initial cursor and runs are read once per project, so re-renders with
 * new props never reopen the stream.
 */
export function useGenerationStream({ projectId, initialCursor, initialRuns, onReset }: UseGenerationStreamOptions): GenerationStream {
  const latest = useRef({ initialCursor, initialRuns, onReset });
  useEffect(() => {
    latest.current = { initialCursor, initialRuns, onReset };
  });

  const clientRef = useRef<GenerationStreamClient | null>(null);
  const [client, setClient] = useState<GenerationStreamClient | null>(null);
  useEffect(() => {
    const { initialCursor: cursor, initialRuns: runs } = latest.current;
    const created = new GenerationStreamClient({
      projectId,
      initialCursor: cursor,
      initialRuns: runs,
      // Every tab's streams share the browser's one connection (SharedWorker, leader tab, or this tab).
      openSource: sharedStream().open,
      onReset: (frame) => latest.current.onReset?.(frame),
    });
    clientRef.current = created;
    setClient(created);
    return () => {
      created.close();
      if (clientRef.current === created) clientRef.current = null;
    };
  }, [projectId]);

  // Until this project's client exists (server render, first render, project switch), show the page's data.
  const active = client !== null && client.projectId === projectId ? client : null;
  const fallback = useMemo(() => initialStreamSnapshot(initialCursor, initialRuns ?? []), [initialCursor, initialRuns]);
  const subscribe = useCallback((listener: () => void) => (active ? active.subscribe(listener) : noopUnsubscribe), [active]);
  const getSnapshot = useCallback(() => (active ? active.getSnapshot() : fallback), [active, fallback]);
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);

  // Read through the ref so a handler captured before the client existed still reaches it.
  const waitUntilReady = useCallback((timeoutMs?: number) => {
    const current = clientRef.current;
    return current ? current.waitUntilReady(timeoutMs) : Promise.reject(new StreamNotReadyError("closed"));
  }, []);
  const retry = useCallback(() => clientRef.current?.retry(), []);

  return {
    status: snapshot.status,
    connectionId: snapshot.connectionId,
    cursor: snapshot.cursor,
    runs: snapshot.runs,
    lastError: snapshot.lastError,
    applied: snapshot.applied,
    holder: active ? sharedStream().kind : null,
    waitUntilReady,
    retry,
  };
}
