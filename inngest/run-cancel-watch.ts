import type pino from "pino";
import { findRun } from "../src/db/queries/runs";
import type { Db } from "../src/db/client";
import { errorMessage } from "../src/lib/errors";
import type { ReporterDeps } from "./run-reporter";

export interface RunCancelWatch {
  /** Aborted as soon as the run has ended (a user's cancel) while the step still works. */
  readonly signal: AbortSignal;
  stop(): void;
}

/** Why the signal was aborted: the run ended elsewhere (its reason is the run's, e.g. "Cancelled by the user"). */
export class RunEndedError extends Error {
  override readonly name = "RunEndedError";
}

/**
 * Watches one run for its end while a long step works (the model writing the plan), so a cancel
 * stops the work at once instead of at the next step boundary. The cancel is stored and published
 * as `run.cancelled` by whichever instance took it; the project's log carries it to every instance
 * (Redis), and the database read after the watch began covers a cancel made before it.
 * If the log cannot be followed (an outage) the step goes on unwatched: the job engine's cancelOn
 * still stops the run at the step's end.
 */
export async function watchRunCancel(
  deps: { db: Db; streaming: ReporterDeps["streaming"]; log: pino.Logger },
  ref: { projectId: string; runId: string },
): Promise<RunCancelWatch> {
  const controller = new AbortController();
  const end = (reason: string) => {
    if (!controller.signal.aborted) controller.abort(new RunEndedError(reason));
  };
  let unfollow: () => void = () => {};
  try {
    unfollow = await deps.streaming.follow(ref.projectId, ({ event }) => {
      if (event.runId !== ref.runId) return;
      if (event.type === "run.cancelled" || event.type === "run.failed") end(event.reason);
      else if (event.type === "run.completed") end("The run has completed");
    });
  } catch (error) {
    deps.log.warn({ ...ref, err: errorMessage(error) }, "cannot watch the run for a cancel; it takes effect at the step's end");
  }
  const run = await findRun(deps.db, ref.runId);
  if (run && run.status !== "running") end(run.reason ?? `The run has ${run.status}`);
  return { signal: controller.signal, stop: () => unfollow() };
}
