import { z } from "zod";
import { checkPlan } from "./plan-check";

/** The field types a user can ask for; "ref" is written `author -> authors` in messages. */
export const FIELD_TYPES = ["string", "number", "int", "boolean", "date", "datetime", "enum", "ref"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldPlan {
  name: string;
  type: FieldType;
  optional: boolean;
  unique: boolean;
  /** number/int: value bounds; string: length bounds. */
  min?: number;
  max?: number;
  /** enum only. */
  values?: string[];
  /** ref only: the plural name of the referenced resource. */
  ref?: string;
}

export interface ResourcePlan {
  /** Plural, lower-case, e.g. "books". */
  name: string;
  singular: string;
  fields: FieldPlan[];
}

export interface ApiPlan {
  title: string;
  /** Starts at 1, +1 per iteration. */
  version: number;
  resources: ResourcePlan[];
}

export const fieldPlanSchema = z.object({
  name: z.string(),
  type: z.enum(FIELD_TYPES),
  optional: z.boolean(),
  unique: z.boolean(),
  min: z.number().optional(),
  max: z.number().optional(),
  values: z.array(z.string()).optional(),
  ref: z.string().optional(),
});

export const resourcePlanSchema = z.object({
  name: z.string(),
  singular: z.string(),
  fields: z.array(fieldPlanSchema),
});

/**
 * Plans come back from the database as JSON, and the code generators embed names into
 * TypeScript identifiers and URLs, so the cross-field rules (safe names, refs that resolve,
 * no colliding identifiers) are checked here too, not only the shape.
 */
export const apiPlanSchema: z.ZodType<ApiPlan> = z
  .object({
    title: z.string(),
    version: z.int().min(1),
    resources: z.array(resourcePlanSchema),
  })
  .superRefine((plan, ctx) => {
    for (const message of checkPlan(plan)) ctx.addIssue({ code: "custom", message });
  });
