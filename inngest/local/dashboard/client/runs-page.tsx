import { useMemo, useState, type KeyboardEvent } from "react";
import type { RunStatus, RunView } from "../../types";
import { between, formatDuration, formatTime } from "./format";
import { useNow } from "./hooks";
import { Status } from "./json-block";
import { RunDetail } from "./run-detail";
import type { Route } from "./route";
import { filterRuns, isActive, TIME_WINDOWS, type DashboardState, type RunFilters, type TimeWindow } from "./store";

const STATUSES: (RunStatus | "all")[] = ["all", "Queued", "Running", "Completed", "Failed", "Cancelled"];

export function RunsPage({ state, runId, navigate }: { state: DashboardState; runId?: string; navigate: (r: Route) => void }) {
  const [filters, setFilters] = useState<RunFilters>({ status: "all", functionId: "all", window: "all" });
  const anyActive = state.runs.some(isActive);
  const now = useNow(anyActive || filters.window !== "all");
  const runs = useMemo(() => filterRuns(state.runs, filters, now), [state.runs, filters, now]);
  const functionIds = useMemo(
    () => [...new Set([...state.app.functions.map((f) => f.id), ...state.runs.map((r) => r.functionId)])].sort(),
    [state],
  );
  const selected = runId ? state.runs.find((r) => r.runId === runId) : undefined;
  const open = (id: string) => navigate({ page: "runs", runId: id });

  const onRowKey = (e: KeyboardEvent<HTMLTableRowElement>, id: string) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      open(id);
    }
  };

  return (
    <div className={`split${runId ? " with-detail" : ""}`}>
      <section aria-label="Runs">
        <div className="filters" role="group" aria-label="Filter runs">
          <label>
            Status
            <select
              data-testid="filter-status"
              value={filters.status}
              onChange={(e) => setFilters({ ...filters, status: e.target.value as RunFilters["status"] })}
            >
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s === "all" ? "All statuses" : s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Function
            <select
              data-testid="filter-function"
              value={filters.functionId}
              onChange={(e) => setFilters({ ...filters, functionId: e.target.value })}
            >
              <option value="all">All functions</option>
              {functionIds.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
          <label>
            Started
            <select
              data-testid="filter-time"
              value={filters.window}
              onChange={(e) => setFilters({ ...filters, window: e.target.value as TimeWindow })}
            >
              {(Object.keys(TIME_WINDOWS) as TimeWindow[]).map((w) => (
                <option key={w} value={w}>
                  {w === "all" ? "Any time" : `Last ${w}`}
                </option>
              ))}
            </select>
          </label>
          <span className="muted" data-testid="runs-count">
            {runs.length} of {state.totals.runs} runs
          </span>
        </div>
        <table data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Function</th>
              <th scope="col">Event</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <RunRow key={run.runId} run={run} now={now} selected={run.runId === runId} onOpen={open} onKey={onRowKey} />
            ))}
          </tbody>
        </table>
        {runs.length === 0 && (
          <p className="muted">
            No runs{filters.status !== "all" || filters.functionId !== "all" || filters.window !== "all" ? " match these filters" : " yet"}.
          </p>
        )}
      </section>
      {runId && (
        <RunDetail
          run={selected}
          runId={runId}
          functions={state.app.functions}
          now={now}
          onClose={() => navigate({ page: "runs" })}
          navigate={navigate}
        />
      )}
    </div>
  );
}

function RunRow({
  run,
  now,
  selected,
  onOpen,
  onKey,
}: {
  run: RunView;
  now: number;
  selected: boolean;
  onOpen: (id: string) => void;
  onKey: (e: KeyboardEvent<HTMLTableRowElement>, id: string) => void;
}) {
  return (
    <tr
      className="row"
      tabIndex={0}
      aria-selected={selected}
      data-testid="run-row"
      data-run-id={run.runId}
      data-status={run.status}
      onClick={() => onOpen(run.runId)}
      onKeyDown={(e) => onKey(e, run.runId)}
    >
      <td>
        <Status status={run.status} testId="run-row-status" />
      </td>
      <td>
        <a
          href={`/dashboard/runs/${run.runId}`}
          tabIndex={-1}
          onClick={(e) => {
            e.preventDefault();
          }}
        >
          {run.functionId}
        </a>
        <div className="mono muted">{run.runId}</div>
      </td>
      <td className="mono">{run.event.name}</td>
      <td>{formatTime(run.startedAt ?? run.queuedAt)}</td>
      <td>{formatTime(run.endedAt)}</td>
      <td>{formatDuration(between(run.startedAt ?? run.queuedAt, run.endedAt, now))}</td>
    </tr>
  );
}
