import { resourceIdentifiers } from "./identifiers";
import type { JsonSchema } from "./openapi-types";
import type { FieldPlan, ResourcePlan } from "./plan";

export const ID_SCHEMA: JsonSchema = { type: "string", format: "uuid" };

function ranged(field: FieldPlan, base: JsonSchema, lower: "minimum" | "minLength", upper: "maximum" | "maxLength"): JsonSchema {
  const schema: JsonSchema = { ...base };
  if (field.min !== undefined) schema[lower] = field.min;
  if (field.max !== undefined) schema[upper] = field.max;
  return schema;
}

function baseSchema(field: FieldPlan): JsonSchema {
  switch (field.type) {
    case "string":
      return ranged(field, { type: "string" }, "minLength", "maxLength");
    case "number":
      return ranged(field, { type: "number" }, "minimum", "maximum");
    case "int":
      return ranged(field, { type: "integer" }, "minimum", "maximum");
    case "boolean":
      return { type: "boolean" };
    case "date":
      return { type: "string", format: "date" };
    case "datetime":
      return { type: "string", format: "date-time" };
    case "enum":
      return { type: "string", enum: [...(field.values ?? [])] };
    case "ref":
      return { ...ID_SCHEMA, description: `ID of an item in ${field.ref ?? "another resource"}.` };
  }
}

export function fieldSchema(field: FieldPlan, resource: ResourcePlan): JsonSchema {
  const schema = baseSchema(field);
  if (!field.unique) return schema;
  const note = `Unique across all ${resource.name}.`;
  return { ...schema, description: schema.description === undefined ? note : `${schema.description} ${note}` };
}

/** Stored item, POST body and PATCH body of one resource, keyed by component name. */
export function resourceSchemas(resource: ResourcePlan): Record<string, JsonSchema> {
  const ids = resourceIdentifiers(resource);
  // Built fresh for each schema so no two places in the document share an object.
  const properties = (): Record<string, JsonSchema> =>
    Object.fromEntries(resource.fields.map((field) => [field.name, fieldSchema(field, resource)]));
  const required = resource.fields.filter((f) => !f.optional).map((f) => f.name);
  const input: JsonSchema = { type: "object", properties: properties(), additionalProperties: false };
  if (required.length > 0) input.required = required;
  return {
    [ids.type]: {
      type: "object",
      properties: { id: { ...ID_SCHEMA, readOnly: true }, ...properties() },
      required: ["id", ...required],
    },
    [ids.input]: input,
    [ids.patch]: {
      type: "object",
      description: `Fields to change on one of ${resource.name}; omitted fields keep their value.`,
      properties: properties(),
      additionalProperties: false,
    },
  };
}

export const ERROR_SCHEMAS: Record<string, JsonSchema> = {
  ValidationIssue: {
    type: "object",
    properties: {
      path: { type: "array", items: { type: ["string", "integer"] }, description: "Where in the request body." },
      message: { type: "string" },
    },
    required: ["path", "message"],
  },
  Error: {
    type: "object",
    properties: {
      code: { type: "string", examples: ["not_found"] },
      message: { type: "string" },
      issues: { type: "array", items: { $ref: "#/components/schemas/ValidationIssue" } },
    },
    required: ["code", "message"],
  },
};
