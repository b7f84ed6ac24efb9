import { diffFields } from "./apply-add";
import { describeFields } from "./describe";
import type { ApiPlan } from "./plan";

/**
 * The "Changes" list between two plans, in the same words the grammar's operations write, for a
 * planner that returns whole plans (the model) instead of operations.
 */
export function diffPlans(previous: Pick<ApiPlan, "title" | "resources"> | null, next: Pick<ApiPlan, "title" | "resources">): string[] {
  const changes: string[] = [];
  if (previous === null) changes.push(`Titled the API "${next.title}"`);
  else if (previous.title !== next.title) changes.push(`Renamed the API from "${previous.title}" to "${next.title}"`);
  const before = new Map((previous?.resources ?? []).map((r) => [r.name, r]));
  const after = new Set(next.resources.map((r) => r.name));
  for (const resource of next.resources) {
    const old = before.get(resource.name);
    if (old === undefined) {
      changes.push(`Added resource ${resource.name}: ${describeFields(resource.fields)}`);
      continue;
    }
    const diff = diffFields(old.fields, resource.fields);
    if (diff.length > 0) changes.push(`Changed ${resource.name}: ${diff.join("; ")}`);
  }
  for (const name of before.keys()) if (!after.has(name)) changes.push(`Removed resource ${name}`);
  return changes;
}
