import { pascalCase } from "./naming";
import type { ResourcePlan } from "./plan";

/** Component schema names the generators use for themselves; resources must not collide with them. */
export const RESERVED_COMPONENT_NAMES = ["Error", "ValidationIssue"] as const;

/**
 * Every name derived from a resource, in one place, so the OpenAPI document, the TypeScript code
 * and the plan checks agree on them (and the checks can prove they are unique).
 */
export interface ResourceIdentifiers {
  /** "Book" — component schema / TypeScript type of a stored item. */
  type: string;
  /** "BookInput" — body of POST (all required fields). */
  input: string;
  /** "BookPatch" — body of PATCH (every field optional). */
  patch: string;
  /** "/books" — collection path; underscores become dashes in URLs. */
  path: string;
  operations: { list: string; create: string; get: string; update: string; remove: string };
}

export function resourceIdentifiers(resource: Pick<ResourcePlan, "name" | "singular">): ResourceIdentifiers {
  const type = pascalCase(resource.singular);
  const plural = pascalCase(resource.name);
  return {
    type,
    input: `${type}Input`,
    patch: `${type}Patch`,
    path: `/${resource.name.replace(/_/g, "-")}`,
    operations: {
      list: `list${plural}`,
      create: `create${type}`,
      get: `get${type}`,
      update: `update${type}`,
      remove: `delete${type}`,
    },
  };
}

/** All generated names of one resource, for collision checks. */
export function allIdentifiers(ids: ResourceIdentifiers): string[] {
  return [ids.type, ids.input, ids.patch, ...Object.values(ids.operations)];
}
