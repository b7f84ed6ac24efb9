// Prose relations ("users have lists", "each list has tasks with a due date"): resources and their owner references.
import { describeFields } from "./describe";
import type { Draft } from "./draft";
import { findField, findResource } from "./lookup";
import { camelCase, refFieldName, resourceNamesFor } from "./naming";
import type { Operation } from "./operations";
import type { ResourcePlan } from "./plan";

function ensure(draft: Draft, word: string): ResourcePlan {
  const found = findResource(draft.resources, word);
  if (found !== undefined) return found;
  const created: ResourcePlan = { ...resourceNamesFor(word), fields: [] };
  draft.resources.push(created);
  draft.related.add(created.name);
  return created;
}

export function relate(draft: Draft, op: Extract<Operation, { kind: "relate" }>): void {
  // The owner first, so "users have lists" lists users before lists.
  const owner = op.owner === undefined ? undefined : ensure(draft, op.owner);
  const resource = ensure(draft, op.resource.name);
  const existed = !draft.related.has(resource.name);
  const added = op.resource.fields.filter((f) => findField(resource, f.name) === undefined);
  if (owner !== undefined) {
    const link = refFieldName(camelCase(owner.singular));
    if (!resource.fields.some((f) => f.type === "ref" && f.ref === owner.name) && findField(resource, link) === undefined) {
      added.push({ name: link, type: "ref", optional: false, unique: false, ref: owner.name });
    }
  }
  resource.fields.push(...added);
  if (existed && added.length > 0) draft.changes.push(`Added ${describeFields(added)} to ${resource.name}`);
}

/**
 * After all operations: resources that prose named without any field of their own get a `name`
 * (said so in the changes), and each new resource gets its "Added" line.
 */
export function finishRelations(draft: Draft): void {
  for (const resource of draft.resources) {
    if (!draft.related.has(resource.name)) continue;
    const bare = resource.fields.every((f) => f.type === "ref");
    if (bare) resource.fields.unshift({ name: "name", type: "string", optional: false, unique: false });
    const owners = resource.fields.filter((f) => f.type === "ref").map((f) => f.ref);
    const belonging = owners.length === 0 ? "" : ` belonging to ${owners.join(" and ")}`;
    const note = bare ? " (the message names no fields for it, so it has a name)" : "";
    draft.changes.push(`Added resource ${resource.name}${belonging}: ${describeFields(resource.fields)}${note}`);
  }
}
