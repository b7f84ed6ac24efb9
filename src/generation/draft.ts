import { findResource, resourceList } from "./lookup";
import { refDisplayName, resourceNamesFor } from "./naming";
import type { FieldPlan, ResourcePlan } from "./plan";

/** The plan being edited by one message; `errors` collects every problem instead of stopping at the first. */
export interface Draft {
  title: string | undefined;
  resources: ResourcePlan[];
  changes: string[];
  errors: string[];
  /** Resources described by this message, to catch "books (…)" written twice. */
  described: Set<string>;
  /** Resources created from prose relations; their "Added" lines are written once all are known. */
  related: Set<string>;
}

export function startDraft(title: string | undefined, resources: readonly ResourcePlan[]): Draft {
  return { title, resources: structuredClone([...resources]), changes: [], errors: [], described: new Set(), related: new Set() };
}

/** Point references at the canonical plural name when the target already exists ("author" -> "authors"). */
export function resolveKnownRefs(draft: Draft, fields: readonly FieldPlan[]): FieldPlan[] {
  return fields.map((field) => {
    if (field.type !== "ref" || field.ref === undefined) return field;
    const target = findResource(draft.resources, field.ref);
    return target === undefined ? field : { ...field, ref: target.name };
  });
}

export function requireResource(draft: Draft, word: string, purpose: string): ResourcePlan | undefined {
  const found = findResource(draft.resources, word);
  if (found === undefined) draft.errors.push(`There is no resource "${word}" ${purpose}. Resources: ${resourceList(draft.resources)}.`);
  return found;
}

/** After all operations: every reference must name a resource of the final plan. */
export function resolveReferences(draft: Draft): void {
  for (const resource of draft.resources) {
    resource.fields = resource.fields.map((field) => {
      if (field.type !== "ref" || field.ref === undefined) return field;
      const target = findResource(draft.resources, field.ref);
      if (target !== undefined) return { ...field, ref: target.name };
      draft.errors.push(
        `Field "${refDisplayName(field.name)}" in ${resource.name} refers to "${field.ref}", which is not a resource of this API (resources: ${resourceList(draft.resources)}). Describe it too, e.g. "${resourceNamesFor(field.ref).name} (name)".`,
      );
      return field;
    });
  }
}
