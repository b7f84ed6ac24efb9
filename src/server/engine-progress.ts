import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/client";
import { findRun } from "../db/queries/runs";
import type { LoggedEvent } from "../streaming/protocol";

/**
 * What the job engine's dashboard reads from the app: the progress events a run published into its
 * project's log, with their ids (the cursors tabs resume from) and keys, so the engine's run detail
 * shows the stream beside the job. The engine authenticates with a bearer key: the signing key, or
 * in development (no signing key) the token `npm run dev` gives the app and the executor
 * (GENSTREAM_ENGINE_TOKEN). With neither the app answers nothing: project content stays behind a key.
 */
export interface EngineProgressDeps {
  db: Db;
  streaming: { retained(projectId: string): Promise<LoggedEvent[]> };
  /** What the engine must send: INNGEST_SIGNING_KEY, else GENSTREAM_ENGINE_TOKEN (see {@link engineReadKey}). */
  engineKey: string | undefined;
}

/** The key the engine reads the app with: the signing key when there is one, else the development token. */
export function engineReadKey(config: { INNGEST_SIGNING_KEY?: string | undefined; GENSTREAM_ENGINE_TOKEN?: string | undefined }) {
  return config.INNGEST_SIGNING_KEY ?? config.GENSTREAM_ENGINE_TOKEN;
}

export type EngineProgressAnswer =
  | { status: 200; body: { runId: string; projectId: string; events: LoggedEvent[] } }
  | { status: 400 | 401 | 404 | 503; body: { error: string } };

const runIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "run id must be a ULID");

function keyMatches(authorization: string | null, key: string): boolean {
  if (!authorization?.startsWith("Bearer ")) return false;
  const given = Buffer.from(authorization.slice("Bearer ".length).trim());
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function engineRunProgress(
  deps: EngineProgressDeps,
  authorization: string | null,
  rawRunId: string,
): Promise<EngineProgressAnswer> {
  if (deps.engineKey === undefined) {
    return {
      status: 503,
      body: {
        error:
          "the app has no INNGEST_SIGNING_KEY (nor the development GENSTREAM_ENGINE_TOKEN): it shares a run's progress events only with an engine that has it",
      },
    };
  }
  if (!keyMatches(authorization, deps.engineKey))
    return {
      status: 401,
      body: { error: "send the engine's key: Authorization: Bearer <INNGEST_SIGNING_KEY> (in development, GENSTREAM_ENGINE_TOKEN)" },
    };
  const runId = runIdSchema.safeParse(rawRunId);
  if (!runId.success)
    return { status: 400, body: { error: `invalid run id "${rawRunId}": ${runId.error.issues[0]?.message ?? "not a ULID"}` } };
  const run = await findRun(deps.db, runId.data);
  if (!run) return { status: 404, body: { error: `the app stored no run ${runId.data}` } };
  const events = (await deps.streaming.retained(run.projectId)).filter((e) => e.event.runId === runId.data);
  return { status: 200, body: { runId: runId.data, projectId: run.projectId, events } };
}
