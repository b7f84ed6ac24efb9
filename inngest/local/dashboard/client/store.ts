import type { RunStatus, RunView } from "../../types";
import type { AppView, EventView, Snapshot, StreamFrame } from "../protocol";

/** What the dashboard shows: the last snapshot with every change since applied. Pure, so it is unit-tested. */
export interface DashboardState {
  auth: Snapshot["auth"];
  app: AppView;
  /** Newest first (by run id: ULIDs sort by creation). */
  runs: RunView[];
  /** Newest first (by internal id). */
  events: EventView[];
  totals: Snapshot["totals"];
}

function upsertNewestFirst<T>(list: T[], item: T, key: (t: T) => string): T[] {
  const id = key(item);
  const at = list.findIndex((x) => key(x) === id);
  if (at >= 0) return list.map((x, i) => (i === at ? item : x));
  // New items are almost always the newest; keep the order right when one is not.
  const next = [...list, item];
  next.sort((x, y) => (key(x) < key(y) ? 1 : key(x) > key(y) ? -1 : 0));
  return next;
}

export function applyFrame(state: DashboardState | null, frame: StreamFrame): DashboardState | null {
  if (frame.type === "snapshot") {
    const { runs, events, totals, auth, ...app } = frame.data;
    return { auth, app, runs, events, totals };
  }
  if (!state) return state; // Changes before the first snapshot cannot happen: the server sends it first.
  switch (frame.type) {
    case "run": {
      const known = state.runs.some((r) => r.runId === frame.data.runId);
      return {
        ...state,
        runs: upsertNewestFirst(state.runs, frame.data, (r) => r.runId),
        totals: known ? state.totals : { ...state.totals, runs: state.totals.runs + 1 },
      };
    }
    case "event": {
      const known = state.events.some((e) => e.internalId === frame.data.internalId);
      return {
        ...state,
        events: upsertNewestFirst(state.events, frame.data, (e) => e.internalId),
        totals: known ? state.totals : { ...state.totals, events: state.totals.events + 1 },
      };
    }
    case "app":
      return { ...state, app: frame.data };
  }
}

export type TimeWindow = "all" | "15m" | "1h" | "24h";
export const TIME_WINDOWS: Record<TimeWindow, number> = { all: Infinity, "15m": 15 * 60_000, "1h": 3_600_000, "24h": 86_400_000 };

export interface RunFilters {
  status: RunStatus | "all";
  /** A function id, or "all". */
  functionId: string;
  window: TimeWindow;
}

export function filterRuns(runs: readonly RunView[], filters: RunFilters, now: number): RunView[] {
  const oldest = now - TIME_WINDOWS[filters.window];
  return runs.filter(
    (r) =>
      (filters.status === "all" || r.status === filters.status) &&
      (filters.functionId === "all" || r.functionId === filters.functionId) &&
      Date.parse(r.startedAt ?? r.queuedAt) >= oldest,
  );
}

export function isActive(run: RunView): boolean {
  return run.status === "Queued" || run.status === "Running";
}
