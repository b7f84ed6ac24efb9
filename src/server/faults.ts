import { z } from "zod";
import type { Logger } from "pino";
import { idSchema } from "../lib/ids";
import { stepNameSchema, type StepName } from "../streaming/protocol";
import type { StepFaults } from "../../inngest/run-reporter";

/**
 * Test-only fault injection for the generation job. A test registers a fault for a project's step
 * (through the test controls, so only with GENSTREAM_TEST_CONTROLS=1); the job reaches the registry
 * through its dependencies (`faults` in inngest/deps.ts, present only when server.ts created a
 * registry with the test controls) and calls `point` at its fault points: `at: 0` is right after the
 * step's step.started, `at: n` right after its n-th step.progress (a step with fewer progress events
 * never reaches it).
 *
 * - `fail-once`: the first time the point is reached the step throws (a retriable error), so the
 *   job engine retries it; every later attempt passes.
 * - `hold`: the first time the point is reached the step waits until the test releases it. The
 *   hold lives in the app process: if the app restarts meanwhile, the re-executed step finds an
 *   empty registry and runs through (the restart releases it).
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

/** The process's registered faults; one per server, created with the test controls. */
export class FaultRegistry implements StepFaults {
  private nextId = 1;
  private readonly faults: Fault[] = [];

  constructor(private readonly log: Logger) {}

  add(spec: FaultSpec): number {
    let release: () => void = () => undefined;
    const releasedSignal = new Promise<void>((resolve) => (release = resolve));
    const fault: Fault = { ...spec, id: this.nextId++, fired: false, released: false, release, releasedSignal };
    this.faults.push(fault);
    this.log.warn({ faultId: fault.id, projectId: spec.projectId, step: spec.step, kind: spec.kind, at: spec.at }, "fault registered");
    return fault.id;
  }

  /** Releases the project's holds (of one step, or all); a hold released before it is reached never waits. */
  release(projectId: string, step?: StepName): number {
    let count = 0;
    for (const fault of this.faults) {
      if (fault.kind !== "hold" || fault.released || fault.projectId !== projectId || (step && fault.step !== step)) continue;
      fault.released = true;
      fault.release();
      count++;
    }
    this.log.warn({ projectId, step: step ?? null, released: count }, "faults released");
    return count;
  }

  /** Called by the job at each fault point; throws or waits when a registered fault says so. */
  async point(ref: { projectId: string; runId: string }, step: StepName, attempt: number, at: number): Promise<void> {
    for (const fault of this.faults) {
      if (fault.fired || fault.projectId !== ref.projectId || fault.step !== step || fault.at !== at) continue;
      fault.fired = true;
      const fields = { faultId: fault.id, projectId: ref.projectId, runId: ref.runId, step, attempt, at, kind: fault.kind };
      if (fault.kind === "fail-once") {
        this.log.warn(fields, "fault injected");
        throw new Error(`Injected fault: ${step} fails on attempt ${attempt}`);
      }
      this.log.warn({ ...fields, released: fault.released }, "fault injected");
      await fault.releasedSignal;
      this.log.warn(fields, "fault hold released");
    }
  }
}
