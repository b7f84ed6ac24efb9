// The deterministic API generator: chat message -> plan -> OpenAPI document + TypeScript, and the checks.
export { FIELD_TYPES, apiPlanSchema, type ApiPlan, type FieldPlan, type FieldType, type ResourcePlan } from "./plan";
export { parseRequest, MAX_MESSAGE_LENGTH, type ParseResult } from "./parse";
export { describePlan, describeResource, describeField } from "./describe";
export { generateOpenApi } from "./openapi";
export type { OpenApiDocument, JsonSchema } from "./openapi-types";
export { generateCode, type GeneratedFile } from "./codegen";
export { validateOpenApi, type OpenApiValidation } from "./validate-openapi";
export { validateTypeScript, type TypeScriptValidation } from "./validate-typescript";
export { checkTypeScript, warmTypeScriptChecker } from "./typescript-checker";
export { FIRST_EXAMPLE, FOLLOW_UP_EXAMPLES } from "./help";
