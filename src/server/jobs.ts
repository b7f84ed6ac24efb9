import { errorMessage } from "../lib/errors";

/** The job engine as the API sees it: one narrow seam, so routers never build Inngest payloads. */
export interface JobQueue {
  /** Resolves with the engine's id of the event it accepted (null when it gave none). */
  iterate(input: { projectId: string; messageId: string }): Promise<{ eventId: string | null }>;
  cancel(input: { projectId: string; messageId: string; runId: string }): Promise<void>;
}

export class JobEngineUnavailableError extends Error {
  override readonly name = "JobEngineUnavailableError";
}

/**
 * The Inngest client and event types, loaded on first use, not with this module: the services import
 * the queue before they are built, the client takes its options from the built services
 * (inngest/client.ts), and server.ts does not load the Inngest SDK before it listens.
 */
async function engine() {
  const [{ inngest }, { apiCancel, apiIterate }] = await Promise.all([import("../../inngest/client"), import("../../inngest/events")]);
  return { inngest, apiCancel, apiIterate };
}

export const inngestJobQueue: JobQueue = {
  async iterate(data) {
    try {
      // The event id doubles as idempotency key: a re-sent message never starts a second run.
      const { inngest, apiIterate } = await engine();
      const { ids } = await inngest.send(apiIterate.create(data, { id: `iterate-${data.messageId}` }));
      return { eventId: ids[0] ?? null };
    } catch (error) {
      throw new JobEngineUnavailableError(`The job engine did not accept the run: ${errorMessage(error)}`, { cause: error });
    }
  },
  async cancel(data) {
    try {
      const { inngest, apiCancel } = await engine();
      await inngest.send(apiCancel.create(data, { id: `cancel-${data.runId}` }));
    } catch (error) {
      throw new JobEngineUnavailableError(`The job engine did not accept the cancel: ${errorMessage(error)}`, { cause: error });
    }
  },
};
