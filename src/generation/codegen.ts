import { generateRoutesFile } from "./codegen-routes";
import { generateSchemasFile } from "./codegen-schemas";
import type { ApiPlan } from "./plan";

export interface GeneratedFile {
  /** Relative path, e.g. "schemas.ts". */
  path: string;
  content: string;
}

/** `schemas.ts` (zod schemas and inferred types) and `routes.ts` (Web Request/Response handlers). */
export function generateCode(plan: ApiPlan): GeneratedFile[] {
  return [
    { path: "schemas.ts", content: generateSchemasFile(plan) },
    { path: "routes.ts", content: generateRoutesFile(plan) },
  ];
}
