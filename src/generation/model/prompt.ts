import { z } from "zod";
import { LIMITS } from "../plan-check";
import { checkPlan } from "../plan-check";
import { type ApiPlan, resourcePlanSchema } from "../plan";

/** What the model writes: a plan without `version`, which the app assigns. */
const modelPlanShape = z.object({
  title: z.string().describe('A short human title, e.g. "Todo API"'),
  resources: z.array(resourcePlanSchema),
});

export type ModelPlan = Omit<ApiPlan, "version">;

/** The model's answer, with the same cross-field checks as every stored plan. */
export const modelPlanSchema: z.ZodType<ModelPlan> = modelPlanShape.superRefine((plan, ctx) => {
  for (const message of checkPlan({ ...plan, version: 1 })) ctx.addIssue({ code: "custom", message });
});

/** JSON Schema of the answer, for `response_format: json_schema` (and the prompt in json_object mode). */
export const MODEL_PLAN_JSON_SCHEMA = z.toJSONSchema(modelPlanShape, { target: "draft-7" }) as Record<string, unknown>;

const RULES = [
  "You design HTTP CRUD APIs. Answer with ONE JSON object and nothing else: no prose, no markdown fences.",
  'Shape: {"title": string, "resources": [{"name": string, "singular": string, "fields": [{"name": string, "type": string, "optional": boolean, "unique": boolean, "min"?: number, "max"?: number, "values"?: string[], "ref"?: string}]}]}.',
  'Resource "name" is plural, lower-case snake_case ("tasks", "blog_posts"); "singular" is its singular ("task", "blog_post").',
  'Field "name" is camelCase starting with a letter ("dueDate"). Never add an "id" field: ids are generated.',
  'Field "type" is one of string, number, int, boolean, date, datetime, enum, ref.',
  'enum fields list "values" (letters, digits, "_", "-", "."); ref fields name the plural resource they point at in "ref" and are called <singular>Id ("listId" with ref "lists"); only ref fields have "ref", only enum fields have "values".',
  '"min"/"max" bound number and int values or string lengths; leave them out when the user gives none.',
  "Every resource needs at least one field. When the user names a resource without fields, give it the obvious ones (a name or title).",
  `Keep to at most ${LIMITS.resources} resources and ${LIMITS.fieldsPerResource} fields per resource.`,
  'A relation like "users have lists" becomes a required ref field on the child (lists.userId -> users).',
];

export interface PromptInput {
  message: string;
  previousPlan: ApiPlan | null;
  /** json_object mode: the schema travels in the prompt because response_format cannot carry it. */
  schemaInPrompt: boolean;
}

export function systemPrompt(schemaInPrompt: boolean): string {
  const schema = schemaInPrompt ? `\n\nThe answer must validate against this JSON Schema:\n${JSON.stringify(MODEL_PLAN_JSON_SCHEMA)}` : "";
  return `${RULES.join("\n")}${schema}`;
}

export function userPrompt({ message, previousPlan }: Pick<PromptInput, "message" | "previousPlan">): string {
  if (previousPlan === null) return `Design the API the user describes.\n\nUser: ${message}`;
  const current: ModelPlan = { title: previousPlan.title, resources: previousPlan.resources };
  return [
    `This is the current API (version ${previousPlan.version}):`,
    JSON.stringify(current),
    "Apply the user's change and answer with the COMPLETE new plan: keep everything the user does not ask to change exactly as it is.",
    `User: ${message}`,
  ].join("\n\n");
}

export function repairPrompt(problems: readonly string[]): string {
  return `That answer is not a valid plan:\n${problems.map((p) => `- ${p}`).join("\n")}\n\nAnswer again with the complete corrected plan as one JSON object.`;
}
