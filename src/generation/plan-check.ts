import { allIdentifiers, RESERVED_COMPONENT_NAMES, resourceIdentifiers } from "./identifiers";
import { FIELD_NAME_PATTERN, RESOURCE_NAME_PATTERN } from "./naming";
import type { ApiPlan, FieldPlan } from "./plan";

export const LIMITS = { resources: 50, fieldsPerResource: 100, titleLength: 120, enumValues: 50 } as const;
export const ENUM_VALUE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const RANGED_TYPES = new Set(["number", "int", "string"]);

/** Rules for one field; reference targets are only checked when the plan's resource names are given. */
export function checkField(resourceName: string, field: FieldPlan, resourceNames?: ReadonlySet<string>): string[] {
  const where = `Field "${field.name}" in ${resourceName}`;
  const problems: string[] = [];
  if (!FIELD_NAME_PATTERN.test(field.name)) problems.push(`${where}: the name must be a letter followed by letters, digits or "_"`);
  if (field.name.toLowerCase() === "id") problems.push(`${where}: "id" is added automatically`);
  if (field.type === "enum") {
    const values = field.values ?? [];
    if (values.length === 0) problems.push(`${where}: an enum needs at least one value`);
    if (values.length > LIMITS.enumValues) problems.push(`${where}: at most ${LIMITS.enumValues} enum values`);
    if (new Set(values).size !== values.length) problems.push(`${where}: enum values must be distinct`);
    for (const v of values)
      if (!ENUM_VALUE_PATTERN.test(v)) problems.push(`${where}: enum value "${v}" may only use letters, digits, "_", "-" and "."`);
  } else if (field.values !== undefined) {
    problems.push(`${where}: only enum fields have values`);
  }
  if (field.type === "ref") {
    if (field.ref === undefined) problems.push(`${where}: a reference needs a target resource`);
    else if (resourceNames !== undefined && !resourceNames.has(field.ref))
      problems.push(`${where} refers to "${field.ref}", which is not a resource of this API`);
  } else if (field.ref !== undefined) {
    problems.push(`${where}: only reference fields have a target`);
  }
  if (field.min !== undefined || field.max !== undefined) {
    if (!RANGED_TYPES.has(field.type)) problems.push(`${where}: ranges only apply to number, int and string fields`);
    if (field.min !== undefined && field.max !== undefined && field.min > field.max)
      problems.push(`${where}: the range minimum ${field.min} is above the maximum ${field.max}`);
    const integral = field.type === "int" || field.type === "string";
    for (const bound of [field.min, field.max]) {
      if (bound !== undefined && integral && !Number.isInteger(bound))
        problems.push(`${where}: the range bound ${bound} must be a whole number`);
      if (bound !== undefined && field.type === "string" && bound < 0) problems.push(`${where}: a length cannot be negative`);
    }
  }
  return problems;
}

/**
 * Rules every plan must satisfy before code is generated from it. Returns readable problems
 * (empty when the plan is fine); used by the zod schema and as the parser's last safety net.
 */
export function checkPlan(plan: ApiPlan): string[] {
  const problems: string[] = [];
  const title = plan.title.trim();
  if (title.length === 0 || title.length > LIMITS.titleLength) problems.push(`The title must have 1 to ${LIMITS.titleLength} characters`);
  if (plan.resources.length === 0) problems.push("The API needs at least one resource");
  if (plan.resources.length > LIMITS.resources) problems.push(`At most ${LIMITS.resources} resources are supported`);

  const names = new Set(plan.resources.map((r) => r.name));
  const identifiers = new Map<string, string>(RESERVED_COMPONENT_NAMES.map((n) => [n, "the generator"]));
  const seenResources = new Set<string>();
  for (const resource of plan.resources) {
    if (seenResources.has(resource.name)) problems.push(`Resource ${resource.name} is defined twice`);
    seenResources.add(resource.name);
    if (!RESOURCE_NAME_PATTERN.test(resource.name) || !RESOURCE_NAME_PATTERN.test(resource.singular)) {
      problems.push(`Resource "${resource.name}": names must be lower-case letters and digits, words joined by "_"`);
      continue; // identifiers derived from a bad name would only produce noise below
    }
    for (const id of allIdentifiers(resourceIdentifiers(resource))) {
      const owner = identifiers.get(id);
      if (owner !== undefined) problems.push(`Resource ${resource.name} would generate the name ${id}, already used by ${owner}`);
      else identifiers.set(id, resource.name);
    }
    if (resource.fields.length === 0) problems.push(`Resource ${resource.name} has no fields`);
    if (resource.fields.length > LIMITS.fieldsPerResource)
      problems.push(`Resource ${resource.name} has more than ${LIMITS.fieldsPerResource} fields`);
    const fieldNames = new Set<string>();
    for (const field of resource.fields) {
      const key = field.name.toLowerCase();
      if (fieldNames.has(key)) problems.push(`Field "${field.name}" appears twice in ${resource.name}`);
      fieldNames.add(key);
      problems.push(...checkField(resource.name, field, names));
    }
  }
  return problems;
}
