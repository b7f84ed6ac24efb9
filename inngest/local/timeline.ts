import type { SerializedError, StepStatus, StepView } from "./types";

/** A run's steps in the order they were first seen, keyed by hashed step id. */
export class Timeline {
  private readonly steps = new Map<string, StepView>();

  constructor(
    private readonly onChange: (step: StepView) => void,
    initial: StepView[] = [],
  ) {
    for (const step of initial) this.steps.set(step.id, { ...step });
  }

  list(): StepView[] {
    return [...this.steps.values()].map((s) => ({ ...s }));
  }

  /** Record (or update the name/op of) a step the SDK reported. */
  see(id: string, name: string | undefined, op: string, status: StepStatus, startedAt = new Date().toISOString()): StepView {
    let step = this.steps.get(id);
    if (!step) {
      step = { id, name: name ?? id, op, status, attempts: 0, startedAt };
      this.steps.set(id, step);
    } else {
      if (name) step.name = name;
      step.op = op;
      step.status = status;
    }
    this.onChange({ ...step });
    return step;
  }

  /** One execution of the step began (a call with `stepId=<hash>` or an immediate run). */
  attempt(id: string, startedAt: string): void {
    const step = this.steps.get(id) ?? this.see(id, undefined, "StepRun", "Running", startedAt);
    step.status = "Running";
    if (step.attempts === 0) step.startedAt = startedAt; // planned earlier, executed now
    step.attempts += 1;
    this.onChange({ ...step });
  }

  finish(
    id: string,
    status: "Completed" | "Failed",
    result: { output?: unknown; error?: SerializedError },
    endedAt = new Date().toISOString(),
  ): void {
    const step = this.steps.get(id);
    if (!step) return;
    step.status = status;
    step.endedAt = endedAt;
    if ("output" in result) step.output = result.output;
    if (result.error) step.error = result.error;
    this.onChange({ ...step });
  }

  retrying(id: string, error: SerializedError): void {
    const step = this.steps.get(id);
    if (!step) return;
    step.status = "Retrying";
    step.error = error;
    this.onChange({ ...step });
  }
}
