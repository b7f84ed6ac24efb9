import { normalizeFieldName, refDisplayName, resourceNamesFor } from "./naming";
import type { FieldPlan, ResourcePlan } from "./plan";

/** Find a resource by what a user typed: "books", "Books", "book", "blog-posts". */
export function findResource(resources: readonly ResourcePlan[], word: string): ResourcePlan | undefined {
  const { name, singular } = resourceNamesFor(word);
  const lowered = word.trim().toLowerCase();
  return (
    resources.find((r) => r.name === name) ?? resources.find((r) => r.singular === lowered || r.singular === singular || r.name === lowered)
  );
}

/** Find a field by its name or, for references, by the name users say ("author" for authorId). */
export function findField(resource: ResourcePlan, word: string): FieldPlan | undefined {
  const wanted = normalizeFieldName(word).toLowerCase();
  return (
    resource.fields.find((f) => f.name.toLowerCase() === wanted) ??
    resource.fields.find((f) => f.type === "ref" && refDisplayName(f.name).toLowerCase() === wanted)
  );
}

export function resourceList(resources: readonly ResourcePlan[]): string {
  return resources.length === 0 ? "none yet" : resources.map((r) => r.name).join(", ");
}

export function fieldList(resource: ResourcePlan): string {
  return resource.fields.map((f) => (f.type === "ref" ? refDisplayName(f.name) : f.name)).join(", ");
}

/** Whether a reference field points at resource `name`; fields parsed from this message may still say "author". */
export function pointsAt(resources: readonly ResourcePlan[], field: FieldPlan, name: string): boolean {
  if (field.type !== "ref" || field.ref === undefined) return false;
  return field.ref === name || findResource(resources, field.ref)?.name === name;
}

/** Fields elsewhere that point at `name` (a resource cannot be removed while they exist). */
export function referencesTo(resources: readonly ResourcePlan[], name: string): string[] {
  return resources.flatMap((r) =>
    r.name === name ? [] : r.fields.filter((f) => pointsAt(resources, f, name)).map((f) => `${r.name}.${refDisplayName(f.name)}`),
  );
}
