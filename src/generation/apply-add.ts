// Operations that add to the plan: described resources, child resources, fields.
import { describeField, describeFields } from "./describe";
import { type Draft, requireResource, resolveKnownRefs } from "./draft";
import { findField, findResource } from "./lookup";
import { camelCase, refFieldName } from "./naming";
import type { FieldPlan, ResourcePlan } from "./plan";

/** "added x; removed y; changed z" between two versions of one resource's fields. */
export function diffFields(before: readonly FieldPlan[], after: readonly FieldPlan[]): string[] {
  const parts: string[] = [];
  const added = after.filter((f) => !before.some((b) => b.name === f.name));
  const removed = before.filter((b) => !after.some((f) => f.name === b.name));
  const changed = after.filter((f) => before.some((b) => b.name === f.name && describeField(b) !== describeField(f)));
  if (added.length > 0) parts.push(`added ${describeFields(added)}`);
  if (removed.length > 0) parts.push(`removed ${removed.map((f) => f.name).join(", ")}`);
  if (changed.length > 0) parts.push(`changed ${describeFields(changed)}`);
  return parts;
}

/** A described resource: new, or a redefinition that replaces the fields of an existing one. */
export function define(draft: Draft, resource: ResourcePlan): void {
  if (draft.described.has(resource.name)) {
    draft.errors.push(`${resource.name} is described twice in this message; describe each resource once.`);
    return;
  }
  draft.described.add(resource.name);
  const fields = resolveKnownRefs(draft, resource.fields);
  const existing = draft.resources.find((r) => r.name === resource.name);
  if (existing === undefined) {
    draft.resources.push({ ...resource, fields });
    draft.changes.push(`Added resource ${resource.name}: ${describeFields(fields)}`);
    return;
  }
  const diff = diffFields(existing.fields, fields);
  existing.fields = fields;
  if (diff.length > 0) draft.changes.push(`Changed ${resource.name}: ${diff.join("; ")}`);
}

/** "add reviews (…) to books": a new resource with a required reference to its parent. */
export function addChild(draft: Draft, resource: ResourcePlan, parentWord: string): void {
  const parent = requireResource(draft, parentWord, `to add ${resource.name} to`);
  if (parent === undefined) return;
  if (findResource(draft.resources, resource.name) !== undefined) {
    draft.errors.push(`${resource.name} already exists; to give it more fields write e.g. "add rating:int to ${resource.name}".`);
    return;
  }
  const fields = resolveKnownRefs(draft, resource.fields);
  if (!fields.some((f) => f.ref === parent.name)) {
    const link = refFieldName(camelCase(parent.singular));
    if (fields.some((f) => f.name.toLowerCase() === link.toLowerCase())) {
      draft.errors.push(`${resource.name} already has a field "${link}", which is the name of its link to ${parent.name}.`);
      return;
    }
    fields.push({ name: link, type: "ref", optional: false, unique: false, ref: parent.name });
  }
  draft.described.add(resource.name);
  draft.resources.push({ ...resource, fields });
  draft.changes.push(`Added resource ${resource.name} belonging to ${parent.name}: ${describeFields(fields)}`);
}

export function addFields(draft: Draft, targetWord: string, newFields: readonly FieldPlan[]): void {
  const target = requireResource(draft, targetWord, "to add fields to");
  if (target === undefined) return;
  const fields = resolveKnownRefs(draft, newFields);
  const clashes = fields.filter((f) => findField(target, f.name) !== undefined);
  if (clashes.length > 0) {
    draft.errors.push(`${target.name} already has ${clashes.map((f) => `"${f.name}"`).join(", ")}.`);
    return;
  }
  target.fields.push(...fields);
  draft.changes.push(`Added ${describeFields(fields)} to ${target.name}`);
}
