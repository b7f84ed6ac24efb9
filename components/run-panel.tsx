"use client";

import type { RunView, StepView } from "@/src/client/run-state";

function stepIcon(step: StepView, runFinished: boolean): string {
  switch (step.state) {
    case "completed":
      return "✓";
    case "running":
      return "●";
    case "failed":
      return "✕";
    case "pending":
      return runFinished ? "–" : "○";
    default: {
      const unreachable: never = step.state;
      return unreachable;
    }
  }
}

function seconds(ms: number | null): string {
  return ms === null ? "" : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function runLabel(run: RunView): string {
  switch (run.status) {
    case "running":
      return "Generating…";
    case "completed":
      return `Completed in ${seconds(run.durationMs)}`;
    case "failed":
      return "Failed";
    case "cancelled":
      return "Cancelled";
    default: {
      const unreachable: never = run.status;
      return unreachable;
    }
  }
}

/** The latest run: each step with its state and elapsed time, and an overall progress bar. */
export function RunPanel({
  run,
  now,
  onCancel,
  cancelling,
}: {
  run: RunView | undefined;
  now: number;
  onCancel: (runId: string) => void;
  cancelling: boolean;
}) {
  if (!run) {
    return (
      <section className="card" data-testid="run-panel" data-run-status="none">
        <p className="muted">No generation yet. Describe an API in the chat to start one.</p>
      </section>
    );
  }
  const finished = run.status !== "running";
  return (
    <section className="card stack" data-testid="run-panel" data-run-id={run.runId} data-run-status={run.status}>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <strong data-testid="run-status">{runLabel(run)}</strong>
        {!finished && (
          <button type="button" className="danger" data-testid="cancel-run" disabled={cancelling} onClick={() => onCancel(run.runId)}>
            {cancelling ? "Cancelling…" : "Cancel"}
          </button>
        )}
      </div>
      <div
        className="progress"
        data-testid="progress-bar"
        data-progress={run.progress.toFixed(2)}
        role="progressbar"
        aria-valuenow={Math.round(run.progress * 100)}
        aria-valuemin={0}
        aria-valuemax={100}
      >
        <div style={{ width: `${Math.round(run.progress * 100)}%` }} />
      </div>
      {run.reason && run.status !== "completed" && (
        <p className="error" data-testid="run-reason">
          {run.reason}
        </p>
      )}
      <ol className="steps">
        {run.steps.map((step) => {
          const elapsed =
            step.durationMs ?? (step.state === "running" && step.startedAt !== null ? Math.max(0, now - step.startedAt) : null);
          return (
            <li key={step.name} className="step" data-testid={`step-${step.name}`} data-state={step.state} data-attempt={step.attempt}>
              <span className="icon" aria-hidden>
                {stepIcon(step, finished)}
              </span>
              <span>
                {step.name}
                {step.attempt > 0 && <span className="muted"> (attempt {step.attempt + 1})</span>}
                {finished && step.state === "pending" && <span className="muted"> skipped</span>}
              </span>
              <span className="muted" data-testid={`step-${step.name}-elapsed`}>
                {seconds(elapsed)}
              </span>
              {(step.summary ?? step.message) && (
                <span className="detail">{step.state === "completed" ? (step.summary ?? step.message) : step.message}</span>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
