/**
 * The cheap part of natural phrasing: "users have lists and each list has tasks with a due date
 * and a done flag". Relations become resources with a reference to their owner; "with …" lists
 * fields in plain words, typed by their last word ("due date" is a date, "done flag" a boolean).
 * Anything it cannot read exactly yields nothing, so the caller answers with the grammar instead
 * of guessing.
 */
import { parseField } from "./fields";
import { normalizeFieldName, RESOURCE_NAME_PATTERN, resourceNamesFor } from "./naming";
import type { Operation } from "./operations";
import type { FieldPlan, FieldType } from "./plan";

const OWNER_VERB = "(?:can\\s+)?(?:has|have|own|owns|contain|contains|hold|holds|include|includes)";
const QUANTITY =
  "(?:(?:many|several|multiple|some|any|zero\\s+or\\s+more|one\\s+or\\s+more|a\\s+list\\s+of|a\\s+number\\s+of|their\\s+own|its\\s+own)\\s+)*";
const RELATION = new RegExp(`\\b(?:(?:each|every|a|an|the)\\s+)?([A-Za-z][\\w-]*)\\s+${OWNER_VERB}\\s+${QUANTITY}([A-Za-z][\\w-]*)`, "gi");

/** Words that look like a subject but never name a resource ("it has", "which have"). */
const NOT_NOUNS = new Set([
  "it",
  "that",
  "which",
  "who",
  "this",
  "these",
  "those",
  "they",
  "there",
  "app",
  "api",
  "application",
  "service",
  "system",
  "one",
  "each",
  "every",
  "also",
  "and",
  "or",
  "a",
  "an",
  "the",
  "many",
  "several",
  "some",
  "any",
  "i",
  "we",
  "you",
]);

const ARTICLE = /^(?:(?:a|an|the|its|their|some|his|her)\s+)+/i;

const TYPE_BY_LAST_WORD = new Map<string, FieldType>(
  Object.entries({
    date: "date",
    birthday: "date",
    deadline: "date",
    time: "datetime",
    timestamp: "datetime",
    datetime: "datetime",
    at: "datetime",
    count: "int",
    quantity: "int",
    age: "int",
    position: "int",
    rank: "int",
    price: "number",
    amount: "number",
    cost: "number",
    total: "number",
    balance: "number",
    weight: "number",
    score: "number",
  } as const),
);
/** Trailing words that only say "boolean" and are not part of the name: "a done flag" is `done`. */
const BOOLEAN_NOUNS = new Set(["flag", "boolean", "checkbox", "toggle"]);

/** "a due date" -> dueDate:date, "an optional note" -> note?, "a done flag" -> done:boolean; undefined when unsure. */
export function naturalField(phrase: string, resourceName: string): FieldPlan | undefined {
  let text = phrase.trim().replace(ARTICLE, "");
  // Already in the grammar ("priority:int 1..3", "owner -> users"): read it as such.
  if (/[:?]|->|→|\.\./.test(text)) {
    const parsed = parseField(text, resourceName);
    return parsed.ok && parsed.field !== null ? parsed.field : undefined;
  }
  let optional = false;
  const optionalWord = /^(?:optional|nullable)\s+/i.exec(text);
  if (optionalWord !== null) {
    optional = true;
    text = text.slice(optionalWord[0].length);
  }
  let unique = false;
  const uniqueWord = /^unique\s+/i.exec(text);
  if (uniqueWord !== null) {
    unique = true;
    text = text.slice(uniqueWord[0].length);
  }
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0 || words.length > 3 || !words.every((w) => /^[A-Za-z][A-Za-z0-9]*$/.test(w))) return undefined;
  const last = (words[words.length - 1] ?? "").toLowerCase();
  let type: FieldType = "string";
  if (BOOLEAN_NOUNS.has(last) && words.length > 1) {
    type = "boolean";
    words.pop();
  } else type = TYPE_BY_LAST_WORD.get(last) ?? "string";
  if (type === "datetime" && last === "at" && words.length === 1) return undefined; // a lone "at" is no name
  const name = normalizeFieldName(
    words.map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())).join(""),
  );
  if (name === "id") return undefined;
  return { name, type, optional, unique };
}

/** Drops trailing spaces, punctuation and a dangling "and" without an end-anchored regex (quadratic on long blank runs). */
function trimTail(text: string): string {
  let rest = text.trimEnd();
  for (;;) {
    if (/[,.;!]$/.test(rest.slice(-1))) rest = rest.slice(0, -1).trimEnd();
    else if (/(?:^|\s)and$/i.test(rest.slice(-4))) rest = rest.slice(0, -3).trimEnd();
    else return rest;
  }
}

function fieldsOf(tail: string, resourceName: string): FieldPlan[] | undefined {
  const trimmed = trimTail(tail);
  const withClause = /^\s*(?:,\s*)?(?:with|having|that\s+have|which\s+have|each\s+with)\s+(.*)$/is.exec(trimmed);
  if (withClause?.[1] === undefined) return trimmed.trim().length === 0 ? [] : undefined;
  const list = withClause[1];
  const fields: FieldPlan[] = [];
  for (const part of list.split(/\s*,\s*(?:and\s+)?|\s+and\s+/i)) {
    const field = naturalField(part, resourceName);
    if (field === undefined) return undefined;
    if (!fields.some((f) => f.name.toLowerCase() === field.name.toLowerCase())) fields.push(field);
  }
  return fields;
}

/**
 * Relations in prose ("X have Y [with fields]"). Returns undefined when the prose has no relation
 * or one it cannot read exactly, so nothing half-understood becomes an API.
 */
export function parseRelations(text: string): Operation[] | undefined {
  // One space between words keeps the patterns below linear on pasted blank runs.
  const prose = text.replace(/\s+/g, " ");
  const matches = [...prose.matchAll(RELATION)];
  if (matches.length === 0) return undefined;
  const ops: Operation[] = [];
  for (let i = 0; i < matches.length; i++) {
    const match = matches[i];
    const ownerWord = match?.[1];
    const childWord = match?.[2];
    if (match === undefined || ownerWord === undefined || childWord === undefined) return undefined;
    if (NOT_NOUNS.has(ownerWord.toLowerCase())) return undefined;
    const owner = resourceNamesFor(ownerWord);
    const end = matches[i + 1]?.index ?? prose.length;
    if (/^an?$/i.test(childWord)) {
      // "each task has a title and a priority": the owner's own fields, no new resource.
      const phrase = trimTail(prose.slice(match.index + match[0].length - childWord.length, end));
      const own = fieldsOf(` with ${phrase}`, owner.name);
      if (own === undefined || own.length === 0 || !RESOURCE_NAME_PATTERN.test(owner.name)) return undefined;
      ops.push({ kind: "relate", resource: { ...owner, fields: own } });
      continue;
    }
    if (NOT_NOUNS.has(childWord.toLowerCase())) return undefined;
    const child = resourceNamesFor(childWord);
    if (!RESOURCE_NAME_PATTERN.test(owner.name) || !RESOURCE_NAME_PATTERN.test(child.name) || owner.name === child.name) return undefined;
    const tail = prose.slice(match.index + match[0].length, end);
    const fields = fieldsOf(tail, child.name);
    if (fields === undefined) return undefined;
    ops.push({ kind: "relate", owner: owner.name, resource: { ...child, fields } });
  }
  return ops;
}
