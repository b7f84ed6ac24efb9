import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import type { ProgressAnswer, RunProgress } from "../progress";
import type { StreamFrame } from "../protocol";
import { ActionError } from "./api";
import { parseRoute, routePath, type Route } from "./route";
import { applyFrame, type DashboardState } from "./store";

export type LiveState = "connecting" | "open" | "closed";

const FRAME_TYPES = ["snapshot", "run", "event", "app"] as const;

/** The engine's state, live: one EventSource; a reconnect starts from a fresh snapshot. */
export function useLiveState(enabled: boolean): { state: DashboardState | null; live: LiveState } {
  const [state, setState] = useState<DashboardState | null>(null);
  const [live, setLive] = useState<LiveState>("connecting");
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource("/dashboard/api/stream");
    const onFrame = (type: StreamFrame["type"]) => (e: MessageEvent<string>) => {
      const frame = { type, data: JSON.parse(e.data) as unknown } as StreamFrame;
      setState((s) => applyFrame(s, frame));
      if (type === "snapshot") setLive("open");
    };
    const handlers = FRAME_TYPES.map((type) => [type, onFrame(type)] as const);
    for (const [type, handler] of handlers) source.addEventListener(type, handler);
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? "closed" : "connecting");
    return () => {
      for (const [type, handler] of handlers) source.removeEventListener(type, handler);
      source.close();
    };
  }, [enabled]);
  return { state, live };
}

function subscribeLocation(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  return () => window.removeEventListener("popstate", onChange);
}

/** The page from the URL; `navigate` pushes a new one (links stay real links for new tabs). */
export function useRoute(): [Route, (route: Route) => void] {
  const pathname = useSyncExternalStore(subscribeLocation, () => window.location.pathname);
  const navigate = useCallback((route: Route) => {
    window.history.pushState(null, "", routePath(route));
    window.dispatchEvent(new PopStateEvent("popstate"));
  }, []);
  return [parseRoute(pathname), navigate];
}

/** Re-renders every `ms` while `active`, so running durations tick. */
export function useNow(active: boolean, ms = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return now;
}

/** An action's state for its button: running, and the last error to show. */
export function useAction<A extends unknown[], T>(fn: (...args: A) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (...args: A): Promise<T | undefined> => {
      setBusy(true);
      setError(null);
      try {
        return await fn(...args);
      } catch (err) {
        setError(err instanceof ActionError ? err.message : String(err));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [fn],
  );
  return { run, busy, error };
}

export type ProgressState = { state: "loading" } | { state: "ok"; progress: RunProgress } | { state: "unavailable"; reason: string };

/**
 * A run's progress events, read from the app through the engine (GET /dashboard/api/runs/{id}/progress),
 * again whenever `version` (the run's steps and status) changes; a late answer never replaces a newer one.
 */
export function useRunProgress(runId: string, version: string): ProgressState {
  const [progress, setProgress] = useState<{ key: string; value: ProgressState } | null>(null);
  const key = `${runId}|${version}`;
  useEffect(() => {
    let current = true;
    void fetch(`/dashboard/api/runs/${encodeURIComponent(runId)}/progress`)
      .then(async (res) => {
        const body = (await res.json()) as ProgressAnswer | { error: string };
        if ("ok" in body)
          return body.ok ? ({ state: "ok", progress: body.progress } as const) : ({ state: "unavailable", reason: body.reason } as const);
        return { state: "unavailable", reason: body.error } as const;
      })
      .catch((err: unknown) => ({ state: "unavailable", reason: String(err) }) as const)
      .then((value) => {
        if (current) setProgress({ key, value });
      });
    return () => {
      current = false;
    };
  }, [runId, key]);
  // Until the first answer for this run: loading; after that the last answer stands while the next loads.
  return progress && progress.key.startsWith(`${runId}|`) ? progress.value : { state: "loading" };
}
