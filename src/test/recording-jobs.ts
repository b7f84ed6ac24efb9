import { JobEngineUnavailableError, type JobQueue } from "../server/jobs";

/** Records what the API asked of the job engine; `fail` makes it refuse like an engine that is down. */
export class RecordingJobs implements JobQueue {
  iterations: { projectId: string; messageId: string }[] = [];
  cancels: { projectId: string; messageId: string; runId: string }[] = [];
  fail = false;
  async iterate(input: { projectId: string; messageId: string }) {
    if (this.fail) throw new JobEngineUnavailableError("The job engine did not accept the run: connection refused");
    this.iterations.push(input);
    return { eventId: null };
  }
  async cancel(input: { projectId: string; messageId: string; runId: string }) {
    if (this.fail) throw new JobEngineUnavailableError("The job engine did not accept the cancel: connection refused");
    this.cancels.push(input);
  }
}
