"use client";

import { useLayoutEffect, useRef } from "react";
import type { RunView, StepView } from "@/src/client/run-state";
import type { StepText } from "@/src/streaming/step-text";

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

/** Within this many pixels of the bottom, the text follows what is being written; scrolled further up, it stays put. */
const FOLLOW_SLACK_PX = 24;

/** What a step is writing (the model's plan), monospaced, following the end while it grows. */
function StepTextView({ step, text, live }: { step: StepView["name"]; text: StepText; live: boolean }) {
  const ref = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [text.text]);
  return (
    <div
      className="step-text stack"
      data-testid={`step-text-${step}`}
      data-attempt={text.attempt}
      data-length={text.start + text.text.length}
      data-live={live}
    >
      {text.attempt > 0 && (
        <span className="muted" data-testid={`step-text-${step}-retried`}>
          Retried: this is attempt {text.attempt + 1}; the text of the attempt that failed was replaced.
        </span>
      )}
      <pre
        ref={ref}
        className="code stream"
        tabIndex={0}
        aria-label={`${step} text`}
        onScroll={(e) => {
          const el = e.currentTarget;
          following.current = el.scrollHeight - el.scrollTop - el.clientHeight <= FOLLOW_SLACK_PX;
        }}
      >
        {text.start > 0 && <span className="muted">{`… (the first ${text.start} characters are no longer kept)\n`}</span>}
        {text.text}
      </pre>
      {text.gap && <span className="error">Part of this text was not received; the result below is complete.</span>}
    </div>
  );
}

/** The latest run: each step with its state and elapsed time, and an overall progress bar. */
export function RunPanel({
  run,
  now,
  onCancel,
  cancelling,
  onRetry,
  retrying,
}: {
  run: RunView | undefined;
  now: number;
  onCancel: (runId: string) => void;
  cancelling: boolean;
  /** Sends the run's message again (a new run); absent when that message is not at hand. */
  onRetry: ((run: RunView) => void) | undefined;
  retrying: boolean;
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
        {(run.status === "failed" || run.status === "cancelled") && onRetry && (
          <button type="button" data-testid="retry-run" disabled={retrying} onClick={() => onRetry(run)}>
            {retrying ? "Sending…" : "Retry"}
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
              {step.text && <StepTextView step={step.name} text={step.text} live={!finished && step.state === "running"} />}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
