import { z } from "zod";
import { log } from "../lib/logger";
import { idSchema } from "../lib/ids";
import { stepNameSchema, type StepName } from "../streaming/protocol";
import type { ReportProgress, RunReporter } from "../../inngest/run-reporter";

/**
 * Test-only fault injection for the generation job. A test registers a fault for a project's step
 * (through the test controls, so only with GENSTREAM_TEST_CONTROLS=1); the function consults the
 * registry at fault points inside each step body: `at: 0` is right after the step's step.started,
 * `at: n` right after its n-th step.progress (a step with fewer progress events never reaches it).
 *
 * - `fail-once`: the first time the point is reached the step throws (a retriable error), so the
 *   job engine retries it; every later attempt passes.
 * - `hold`: the first time the point is reached the step waits until the test releases it. The
 *   hold lives in the app process: if the app restarts meanwhile, the re-executed step finds an
 *   empty registry and runs through (the restart releases it).
 *
 * The registry lives on globalThis: the test controls (custom server) and the Inngest route (Next's
 * bundle) are different module instances in one process.
 */

export const faultSpecSchema = z.object({
  projectId: idSchema,
  step: stepNameSchema,
  kind: z.enum(["fail-once", "hold"]),
  at: z.number().int().min(0).max(10_000).default(0),
});
export type FaultSpec = z.infer<typeof faultSpecSchema>;

export const faultReleaseSchema = z.object({
  projectId: idSchema,
  step: stepNameSchema.optional(),
});

interface Fault extends FaultSpec {
  id: number;
  fired: boolean;
  released: boolean;
  release: () => void;
  releasedSignal: Promise<void>;
}

interface Registry {
  nextId: number;
  faults: Fault[];
}

const globalForFaults = globalThis as unknown as { __genstreamFaults?: Registry };

function registry(): Registry {
  return (globalForFaults.__genstreamFaults ??= { nextId: 1, faults: [] });
}

export function addFault(spec: FaultSpec): number {
  const reg = registry();
  let release: () => void = () => undefined;
  const releasedSignal = new Promise<void>((resolve) => (release = resolve));
  const fault: Fault = { ...spec, id: reg.nextId++, fired: false, released: false, release, releasedSignal };
  reg.faults.push(fault);
  log.warn({ faultId: fault.id, projectId: spec.projectId, step: spec.step, kind: spec.kind, at: spec.at }, "fault registered");
  return fault.id;
}

/** Releases the project's holds (of one step, or all); a hold released before it is reached never waits. */
export function releaseFaults(projectId: string, step?: StepName): number {
  let count = 0;
  for (const fault of registry().faults) {
    if (fault.kind !== "hold" || fault.released || fault.projectId !== projectId || (step && fault.step !== step)) continue;
    fault.released = true;
    fault.release();
    count++;
  }
  log.warn({ projectId, step: step ?? null, released: count }, "faults released");
  return count;
}

/** Called by the step bodies at each fault point; throws or waits when a registered fault says so. */
export async function faultPoint(ref: { projectId: string; runId: string }, step: StepName, attempt: number, at: number): Promise<void> {
  for (const fault of registry().faults) {
    if (fault.fired || fault.projectId !== ref.projectId || fault.step !== step || fault.at !== at) continue;
    fault.fired = true;
    const fields = { faultId: fault.id, projectId: ref.projectId, runId: ref.runId, step, attempt, at, kind: fault.kind };
    if (fault.kind === "fail-once") {
      log.warn(fields, "fault injected");
      throw new Error(`Injected fault: ${step} fails on attempt ${attempt}`);
    }
    log.warn({ ...fields, released: fault.released }, "fault injected");
    await fault.releasedSignal;
    log.warn(fields, "fault hold released");
  }
}

type StepBody<T> = (report: ReportProgress) => Promise<{ value: T; summary?: string }>;

/**
 * Puts fault points into every step body the reporter runs: one right after step.started, one after
 * each step.progress. Mutates and returns the reporter; the function calls it only when
 * `testControlsEnabled()`.
 */
export function withInjectedFaults(reporter: RunReporter, ref: { projectId: string; runId: string }): RunReporter {
  const step = reporter.step.bind(reporter);
  reporter.step = <T>(name: StepName, attempt: number, body: StepBody<T>): Promise<T> =>
    step(name, attempt, async (report) => {
      await faultPoint(ref, name, attempt, 0);
      let reported = 0;
      const counted: ReportProgress = async (message, extra) => {
        await report(message, extra);
        reported += 1;
        await faultPoint(ref, name, attempt, reported);
      };
      return body(counted);
    });
  return reporter;
}
