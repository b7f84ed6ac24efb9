import { type FieldToken, tokenizeField } from "./field-tokens";
import { normalizeFieldName, refFieldName } from "./naming";
import type { FieldPlan, FieldType } from "./plan";
import { checkField } from "./plan-check";
import { maskGroups, unmask } from "./scan";

/** Type words users write, mapped onto plan types; "ref" is not here because it is spelled `->`. */
// A Map so that words like "constructor" are not mistaken for types via Object.prototype.
const TYPE_ALIASES = new Map<string, Exclude<FieldType, "ref">>(
  Object.entries({
    string: "string",
    str: "string",
    text: "string",
    number: "number",
    float: "number",
    decimal: "number",
    double: "number",
    numeric: "number",
    int: "int",
    integer: "int",
    boolean: "boolean",
    bool: "boolean",
    date: "date",
    datetime: "datetime",
    "date-time": "datetime",
    timestamp: "datetime",
    enum: "enum",
  } as const),
);

export const ACCEPTED_TYPES_TEXT = "string (the default), number, int, boolean, date, datetime, enum(a|b|c)";

const ARTICLES = new Set(["a", "an", "the", "new"]);
const LEADING_FILLERS = new Set(["field", "column", "attribute", "property", "called", "named"]);
const MODIFIERS = new Set(["optional", "nullable", "required", "unique"]);
const TRAILING_NOUNS = new Set(["field", "column", "attribute", "property"]);

export type FieldParse = { ok: true; field: FieldPlan | null } | { ok: false; error: string };

class FieldError extends Error {}

function typeError(where: string, name: string, word: string): FieldError {
  const refHint = /s$/i.test(word) ? `"${name} -> ${word.toLowerCase()}"` : `"${name} -> <resources>"`;
  return new FieldError(
    `${where} has an unknown type "${word}". Accepted types: ${ACCEPTED_TYPES_TEXT}; for a reference to another resource write ${refHint}.`,
  );
}

function enumValues(where: string, inner: string): string[] {
  const values = inner.split(/[|,/\s]+/).filter((v) => v.length > 0);
  if (values.length === 0) throw new FieldError(`${where}: enum() needs values, e.g. status:enum(draft|published)`);
  return values;
}

/** Parse one field description; `null` means "ignored" (an explicit `id`, which is always generated). */
export function parseField(raw: string, resourceName: string): FieldParse {
  // A sentence's final "." or "!" is not part of the field, but the ".." of an open range ("0..") is.
  const text = raw
    .trim()
    .replace(/!+$/, "")
    .replace(/(?<!\.)\.$/, "");
  const tokenized = tokenizeField(text);
  if (!tokenized.ok) return { ok: false, error: `In ${resourceName}, I can't read "${text}" (unexpected "${tokenized.unexpected}").` };
  try {
    return { ok: true, field: fieldFromTokens(tokenized.tokens, text, resourceName) };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, error: error.message };
    throw error;
  }
}

interface TypePart {
  name: string;
  type: FieldType;
  /** Whether the type was written out; a stray word after an untyped name hints at "first name". */
  typed: boolean;
  values?: string[];
  ref?: string;
}

/** What follows the name: `-> authors`, `:int`, ` date`, `:enum(a|b)`, or nothing (a string). */
function readType(tokens: FieldToken[], name: string, where: string): TypePart {
  const head = tokens[0];
  if (head?.kind === "arrow") {
    tokens.shift();
    const target = tokens.shift();
    if (target?.kind !== "word") throw new FieldError(`${where}: "->" must be followed by a resource name, e.g. "${name} -> authors".`);
    return { name: refFieldName(name), type: "ref", typed: true, ref: target.text };
  }
  const bareType = head?.kind === "word" && TYPE_ALIASES.has(head.text.toLowerCase());
  if (head?.kind !== "colon" && !bareType) return { name, type: "string", typed: false };
  if (head?.kind === "colon") tokens.shift();
  const typeToken = tokens.shift();
  if (typeToken?.kind !== "word") throw new FieldError(`${where}: ":" must be followed by a type (${ACCEPTED_TYPES_TEXT}).`);
  const type = TYPE_ALIASES.get(typeToken.text.toLowerCase());
  if (type === undefined) throw typeError(where, name, typeToken.text);
  if (type !== "enum") return { name, type, typed: true };
  const group = tokens.shift();
  if (group?.kind !== "group") throw new FieldError(`${where}: enum needs its values in parentheses, e.g. ${name}:enum(draft|published).`);
  return { name, type, typed: true, values: enumValues(where, group.inner) };
}

function fieldFromTokens(input: readonly FieldToken[], text: string, resourceName: string): FieldPlan | null {
  const tokens = [...input];
  const modifiers: Modifiers = { optional: false, unique: false };

  // "an optional subtitle", "a new field called stock": leading words only count when a name
  // follows, and filler nouns not even then if the next word could be read otherwise ("field unique").
  for (let t = tokens[0], next = tokens[1]; t?.kind === "word" && next?.kind === "word"; t = tokens[0], next = tokens[1]) {
    const word = t.text.toLowerCase();
    const nextWord = next.text.toLowerCase();
    const filler = LEADING_FILLERS.has(word) && !MODIFIERS.has(nextWord) && !TYPE_ALIASES.has(nextWord);
    if (!ARTICLES.has(word) && !filler && !applyModifier(word, modifiers)) break;
    tokens.shift();
  }
  const last = tokens[tokens.length - 1];
  if (tokens.length > 1 && last?.kind === "word" && TRAILING_NOUNS.has(last.text.toLowerCase())) tokens.pop();

  const nameToken = tokens.shift();
  if (nameToken?.kind !== "word") throw new FieldError(`In ${resourceName}, "${text}" does not start with a field name.`);
  const typedName = normalizeFieldName(nameToken.text);
  const where = `Field "${typedName}" in ${resourceName}`;
  if (tokens[0]?.kind === "question") {
    tokens.shift();
    modifiers.optional = true;
  }
  const part = readType(tokens, typedName, where);
  const field: FieldPlan = { name: part.name, type: part.type, optional: false, unique: false };
  readModifiers(tokens, field, modifiers, part.typed, where, text);
  field.optional = modifiers.optional;
  field.unique = modifiers.unique;
  if (part.values !== undefined) field.values = part.values;
  if (part.ref !== undefined) field.ref = part.ref;
  if (field.name.toLowerCase() === "id") return null;
  const problems = checkField(resourceName, field);
  if (problems[0] !== undefined) throw new FieldError(`${problems.join("; ")}.`);
  return field;
}

type Modifiers = { optional: boolean; unique: boolean };

function applyModifier(word: string, modifiers: Modifiers): boolean {
  if (word === "optional" || word === "nullable") modifiers.optional = true;
  else if (word === "required") modifiers.optional = false;
  else if (word === "unique") modifiers.unique = true;
  else return false;
  return true;
}

function readModifiers(tokens: FieldToken[], field: FieldPlan, modifiers: Modifiers, typed: boolean, where: string, text: string): void {
  for (let token = tokens.shift(); token !== undefined; token = tokens.shift()) {
    if (token.kind === "question") {
      modifiers.optional = true;
      continue;
    }
    if (token.kind === "range") {
      if (token.min !== undefined) field.min = token.min;
      if (token.max !== undefined) field.max = token.max;
      continue;
    }
    const bound = tokens[0];
    if (token.kind === "word" && (token.text === "min" || token.text === "max") && bound?.kind === "number") {
      tokens.shift();
      field[token.text] = bound.value;
      continue;
    }
    if (token.kind === "word" && applyModifier(token.text.toLowerCase(), modifiers)) continue;
    if (token.kind === "word" && !typed) {
      // Most likely a two-word name such as "first name".
      throw new FieldError(
        `${where}: I don't understand "${token.text}" in "${text}". Field names are one word (firstName or first_name); put the type after a colon, e.g. price:number.`,
      );
    }
    throw new FieldError(
      `${where}: I don't understand "${describeToken(token)}" in "${text}". After the type you can write ?, unique, or a range like 1..5.`,
    );
  }
}

function describeToken(token: FieldToken): string {
  switch (token.kind) {
    case "word":
      return token.text;
    case "arrow":
      return "->";
    case "colon":
      return ":";
    case "question":
      return "?";
    case "number":
      return String(token.value);
    case "range":
      return `${token.min ?? ""}..${token.max ?? ""}`;
    case "group":
      return `(${token.inner})`;
  }
}

/** Split a field list on commas, semicolons, new lines and "and", but never inside `enum(…)`. */
export function splitFieldList(text: string): string[] {
  const masked = maskGroups(text);
  if (!masked.ok) return [text];
  return masked.masked.text
    .split(/[,;\n]|\s+(?:and|&)\s+/i)
    .map((part) => unmask(part, masked.masked.groups).trim())
    .filter((part) => part.length > 0);
}

export interface FieldListParse {
  fields: FieldPlan[];
  errors: string[];
}

export function parseFieldList(text: string, resourceName: string): FieldListParse {
  const fields: FieldPlan[] = [];
  const errors: string[] = [];
  for (const part of splitFieldList(text)) {
    const parsed = parseField(part, resourceName);
    if (!parsed.ok) {
      errors.push(parsed.error);
      continue;
    }
    if (parsed.field === null) continue;
    const name = parsed.field.name;
    if (fields.some((f) => f.name.toLowerCase() === name.toLowerCase())) errors.push(`Field "${name}" appears twice in ${resourceName}.`);
    else fields.push(parsed.field);
  }
  return { fields, errors };
}
