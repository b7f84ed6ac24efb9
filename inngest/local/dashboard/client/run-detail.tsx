import { useEffect, useRef } from "react";
import type { RunView } from "../../types";
import type { FunctionView } from "../protocol";
import { postJson } from "./api";
import { between, formatDuration, formatTime } from "./format";
import { useAction, useRunProgress, type ProgressState } from "./hooks";
import { JsonBlock, Status } from "./json-block";
import type { Route } from "./route";
import { isActive } from "./store";
import { waterfall } from "./waterfall";

const cancelRun = (runId: string) => postJson<{ runId: string }>(`runs/${runId}/cancel`);
const rerunRun = (runId: string) => postJson<{ runId: string }>(`runs/${runId}/rerun`);

export function RunDetail(props: {
  run: RunView | undefined;
  runId: string;
  functions: FunctionView[];
  now: number;
  onClose: () => void;
  navigate: (r: Route) => void;
}) {
  const { run, runId, functions, now, onClose, navigate } = props;
  const heading = useRef<HTMLHeadingElement>(null);
  const version = run ? `${run.status}:${run.timeline.map((s) => `${s.id}:${s.status}:${s.attempts}`).join(",")}` : "none";
  const progress = useRunProgress(runId, version);
  const cancel = useAction(cancelRun);
  const rerun = useAction(rerunRun);

  // Focus moves to the detail when it opens; Escape closes it (and focus returns to the list).
  useEffect(() => {
    heading.current?.focus();
  }, [runId]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);

  if (!run) {
    return (
      <section className="panel" data-testid="run-detail" aria-label="Run">
        <h2 ref={heading} tabIndex={-1}>
          Run {runId}
        </h2>
        <p className="muted">This run is not among the newest the engine sent; try GET /v1/runs/{runId}.</p>
        <button type="button" onClick={onClose} data-testid="run-close">
          Close
        </button>
      </section>
    );
  }

  const fn = functions.find((f) => f.id === run.functionId);
  const maxAttempts = fn ? fn.retries + 1 : undefined;
  const fall = waterfall(run, now);
  const pct = (ms: number) => `${((ms / fall.span) * 100).toFixed(2)}%`;

  return (
    <section className="panel" data-testid="run-detail" data-run-id={run.runId} data-status={run.status} aria-label={`Run ${run.runId}`}>
      <h2 ref={heading} tabIndex={-1}>
        <Status status={run.status} testId="run-status" />
        <span>{run.functionId}</span>
        <span className="actions">
          <button
            type="button"
            className="danger"
            data-testid="run-cancel"
            disabled={!isActive(run) || cancel.busy}
            onClick={() => void cancel.run(run.runId)}
          >
            Cancel
          </button>
          <button
            type="button"
            data-testid="run-rerun"
            disabled={rerun.busy || !fn}
            onClick={() =>
              void rerun.run(run.runId).then((r) => {
                if (r) navigate({ page: "runs", runId: r.runId });
              })
            }
          >
            Rerun
          </button>
          <button type="button" onClick={onClose} data-testid="run-close" aria-label="Close run (Escape)">
            ✕
          </button>
        </span>
      </h2>
      {(cancel.error ?? rerun.error) && (
        <p className="notice bad" role="alert">
          {cancel.error ?? rerun.error}
        </p>
      )}
      <dl className="facts">
        <dt>Run</dt>
        <dd className="mono">{run.runId}</dd>
        <dt>Event</dt>
        <dd>
          <a
            href={`/dashboard/events/${run.eventId}`}
            onClick={(e) => {
              e.preventDefault();
              navigate({ page: "events", eventId: run.eventId });
            }}
          >
            {run.event.name}
          </a>{" "}
          <span className="mono muted" data-testid="run-event-id">
            {run.eventId}
          </span>
        </dd>
        <dt>Queued</dt>
        <dd>{formatTime(run.queuedAt)}</dd>
        <dt>Queue delay</dt>
        <dd>{formatDuration(fall.queueDelay)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(run.startedAt)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(run.endedAt)}</dd>
        <dt>Duration</dt>
        <dd data-testid="run-duration">{formatDuration(between(run.startedAt, run.endedAt, now))}</dd>
      </dl>
      <ProgressEvents progress={progress} step={undefined} label="Run events" />
      <h3>Steps</h3>
      <ol className="waterfall" data-testid="run-steps">
        {fall.bars.map(({ step, waitFrom, start, end }) => (
          <li key={step.id} className="step" data-testid="run-step" data-step-name={step.name} data-status={step.status}>
            <div className="head">
              <Status status={step.status} />
              <strong>{step.name}</strong>
              <span className="muted">{step.op}</span>
              <span data-testid="run-step-attempts">
                attempt{step.attempts === 1 ? "" : "s"} {step.attempts}
                {maxAttempts === undefined ? "" : ` of ${maxAttempts}`}
              </span>
              {start > waitFrom && <span className="muted">waited {formatDuration(start - waitFrom)}</span>}
              <span>{formatDuration(step.endedAt ? end - start : undefined)}</span>
            </div>
            <div className="bar-track" aria-hidden="true">
              {start > waitFrom && <div className="bar wait" style={{ left: pct(waitFrom), width: pct(start - waitFrom) }} />}
              <div className="bar" data-status={step.status} style={{ left: pct(start), width: pct(end - start) }} />
            </div>
            {step.error && (
              <div className="error" data-testid="run-step-error">
                {step.status === "Retrying"
                  ? `Attempt ${step.attempts} failed; attempt ${step.attempts + 1}${maxAttempts === undefined ? "" : ` of ${maxAttempts}`} follows after the engine's backoff: `
                  : "Failed: "}
                {step.error.name}: {step.error.message}
              </div>
            )}
            {step.output !== undefined && <JsonBlock value={step.output} label={`Output of ${step.name}`} testId="run-step-output" />}
            <ProgressEvents progress={progress} step={step.name} label={`Progress events of ${step.name}`} />
          </li>
        ))}
      </ol>
      {run.timeline.length === 0 && <p className="muted">No steps yet.</p>}
      {run.status === "Completed" && (
        <>
          <h3>Output</h3>
          <JsonBlock value={run.output} label="Run output" testId="run-output" />
        </>
      )}
      {run.error && (
        <>
          <h3>Error</h3>
          <pre className="error" data-testid="run-error">
            {run.error.name}: {run.error.message}
          </pre>
        </>
      )}
    </section>
  );
}

/**
 * The progress events the app published for the run (step undefined: the run's own, run.*), with
 * their ids: what the app's tabs received, beside the step that sent them.
 */
function ProgressEvents({ progress, step, label }: { progress: ProgressState; step: string | undefined; label: string }) {
  if (progress.state !== "ok") {
    if (step !== undefined) return null;
    return (
      <p className="muted" data-testid="run-progress" data-state={progress.state}>
        {progress.state === "loading" ? "Reading the progress events from the app…" : `Progress events: ${progress.reason}`}
      </p>
    );
  }
  const events = progress.progress.events.filter((e) => (step === undefined ? e.event.step === undefined : e.event.step === step));
  if (events.length === 0) return null;
  return (
    <details
      className="progress"
      data-testid={step === undefined ? "run-progress" : "run-step-progress"}
      data-state="ok"
      open={step === undefined}
    >
      <summary>
        {label}: {events.length} published
      </summary>
      <ol aria-label={label}>
        {events.map((e) => (
          <li key={e.id} data-testid="progress-event" data-event-id={e.id} data-type={e.event.type}>
            <code>{e.id}</code> <span className="chip">{e.event.type}</span>
            {e.event.attempt !== undefined && <span className="muted"> attempt {e.event.attempt + 1}</span>}
            {e.event.message && <span> {e.event.message}</span>}
          </li>
        ))}
      </ol>
    </details>
  );
}
