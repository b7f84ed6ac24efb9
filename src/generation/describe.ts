import { refDisplayName } from "./naming";
import type { ApiPlan, FieldPlan, ResourcePlan } from "./plan";

function formatRange(field: FieldPlan): string {
  if (field.min === undefined && field.max === undefined) return "";
  return ` ${field.min ?? ""}..${field.max ?? ""}`;
}

/**
 * A field in the same syntax the user types (`rating:int 1..5`, `bio?`, `author -> authors`),
 * so progress lines and replies double as examples of the input language.
 */
export function describeField(field: FieldPlan): string {
  const unique = field.unique ? " unique" : "";
  const optional = field.optional ? "?" : "";
  if (field.type === "ref") return `${refDisplayName(field.name)}${optional} -> ${field.ref ?? "?"}${unique}`;
  const type = field.type === "enum" ? `:enum(${(field.values ?? []).join("|")})` : field.type === "string" ? "" : `:${field.type}`;
  return `${field.name}${type}${optional}${formatRange(field)}${unique}`;
}

export function describeFields(fields: readonly FieldPlan[]): string {
  return fields.map(describeField).join(", ");
}

/** "books: 5 fields (title, author -> authors, isbn unique, price:number, published:date)". */
export function describeResource(resource: ResourcePlan): string {
  const count = resource.fields.length;
  return `${resource.name}: ${count} field${count === 1 ? "" : "s"} (${describeFields(resource.fields)})`;
}

/** One line per resource, for progress events. */
export function describePlan(plan: ApiPlan): string[] {
  return plan.resources.map(describeResource);
}
