// Operations that change or drop what exists: remove, rename, retitle.
import { type Draft, requireResource } from "./draft";
import { fieldList, findField, findResource, pointsAt, referencesTo, resourceList } from "./lookup";
import { normalizeFieldName, refFieldName, resourceNamesFor } from "./naming";
import type { Operation } from "./operations";
import type { FieldPlan, ResourcePlan } from "./plan";

export function removeFields(draft: Draft, targetWord: string, names: readonly string[]): void {
  const target = requireResource(draft, targetWord, "to remove fields from");
  if (target === undefined) return;
  const doomed: FieldPlan[] = [];
  for (const name of names) {
    const field = findField(target, name);
    if (field === undefined) draft.errors.push(`${target.name} has no field "${name}". Its fields: ${fieldList(target)}.`);
    else doomed.push(field);
  }
  if (doomed.length !== names.length) return;
  if (doomed.length === target.fields.length) {
    draft.errors.push(`That would leave ${target.name} without fields; to drop the whole resource write "remove ${target.name}".`);
    return;
  }
  target.fields = target.fields.filter((f) => !doomed.includes(f));
  draft.changes.push(`Removed ${doomed.map((f) => f.name).join(", ")} from ${target.name}`);
}

export function remove(draft: Draft, names: readonly string[]): void {
  // References between resources removed together ("remove books and reviews") don't block.
  const leaving = new Set(names.map((n) => findResource(draft.resources, n)?.name));
  for (const name of names) {
    const resource = findResource(draft.resources, name);
    if (resource !== undefined) {
      const others = draft.resources.filter((r) => r !== resource);
      const blockers = referencesTo(draft.resources, resource.name).filter((b) => !leaving.has(b.split(".")[0]));
      if (blockers.length > 0) {
        draft.errors.push(
          `${resource.name} can't be removed while ${blockers.join(", ")} refer${blockers.length === 1 ? "s" : ""} to it; remove those fields first.`,
        );
        continue;
      }
      draft.resources = others;
      draft.changes.push(`Removed resource ${resource.name}`);
      continue;
    }
    const owners = draft.resources.filter((r) => findField(r, name) !== undefined);
    const owner = owners[0];
    if (owner !== undefined && owners.length === 1) removeFields(draft, owner.name, [name]);
    else if (owners.length > 1)
      draft.errors.push(
        `"${name}" is a field of ${owners.map((r) => r.name).join(" and ")}; say which, e.g. "remove ${name} from ${owner?.name ?? ""}".`,
      );
    else draft.errors.push(`There is no resource or field called "${name}". Resources: ${resourceList(draft.resources)}.`);
  }
}

function renameField(draft: Draft, resource: ResourcePlan, from: string, to: string): void {
  const field = findField(resource, from);
  if (field === undefined) {
    draft.errors.push(`${resource.name} has no field "${from}". Its fields: ${fieldList(resource)}.`);
    return;
  }
  const name = field.type === "ref" ? refFieldName(normalizeFieldName(to)) : normalizeFieldName(to);
  const clash = findField(resource, name);
  if (clash !== undefined && clash !== field) {
    draft.errors.push(`${resource.name} already has a field "${clash.name}".`);
    return;
  }
  const old = field.name;
  field.name = name;
  draft.changes.push(`Renamed ${old} to ${name} in ${resource.name}`);
}

/** Rename a field (in the named resource, or the one resource that has it) or a whole resource. */
export function rename(draft: Draft, op: Extract<Operation, { kind: "rename" }>): void {
  if (op.target !== undefined) {
    const target = requireResource(draft, op.target, "to rename a field in");
    if (target !== undefined) renameField(draft, target, op.from, op.to);
    return;
  }
  const resource = findResource(draft.resources, op.from);
  if (resource !== undefined) {
    const names = resourceNamesFor(op.to);
    if (findResource(draft.resources, op.to) !== undefined) {
      draft.errors.push(`There already is a resource ${names.name}.`);
      return;
    }
    const old = resource.name;
    for (const field of draft.resources.flatMap((r) => r.fields)) if (pointsAt(draft.resources, field, old)) field.ref = names.name;
    Object.assign(resource, names);
    draft.changes.push(`Renamed resource ${old} to ${names.name}`);
    return;
  }
  const owners = draft.resources.filter((r) => findField(r, op.from) !== undefined);
  const owner = owners[0];
  if (owner !== undefined && owners.length === 1) renameField(draft, owner, op.from, op.to);
  else if (owners.length > 1)
    draft.errors.push(
      `"${op.from}" is a field of ${owners.map((r) => r.name).join(" and ")}; say which, e.g. "rename ${op.from} to ${op.to} in ${owner?.name ?? ""}".`,
    );
  else draft.errors.push(`There is no resource or field called "${op.from}". Resources: ${resourceList(draft.resources)}.`);
}

export function retitle(draft: Draft, title: string): void {
  if (draft.title === title) return;
  draft.changes.push(draft.title === undefined ? `Titled the API "${title}"` : `Renamed the API from "${draft.title}" to "${title}"`);
  draft.title = title;
}
