import { validate } from "@readme/openapi-parser";
import type { OpenApiDocument } from "./openapi-types";
import { errorMessage } from "../lib/errors";

export type OpenApiValidation = { ok: true } | { ok: false; errors: string[] };

type ParserInput = Parameters<typeof validate>[0];

/**
 * Validate against the OpenAPI 3.1 specification (plus the parser's extra rules: unique
 * operationIds, declared path parameters, …). Never throws: a crash of the validator is reported
 * as an error string like any other finding.
 */
export async function validateOpenApi(doc: OpenApiDocument): Promise<OpenApiValidation> {
  try {
    // The parser dereferences $refs in place, so it gets a copy; and our document type is a
    // narrower description of the same JSON than the parser's own union type.
    const copy = structuredClone(doc) as unknown as ParserInput;
    if (typeof copy !== "object" || copy === null) return { ok: false, errors: ["The document is not a JSON object."] };
    const result = await validate(copy, { resolve: { external: false }, validate: { errors: { colorize: false } } });
    if (result.valid) return { ok: true };
    const errors = result.errors.map((e) => e.message.trim());
    if (result.additionalErrors > 0) errors.push(`…and ${result.additionalErrors} more error(s).`);
    return { ok: false, errors: errors.length > 0 ? errors : ["The document is not a valid OpenAPI document."] };
  } catch (error) {
    return { ok: false, errors: [errorMessage(error)] };
  }
}
