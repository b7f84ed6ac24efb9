import { parseFieldList } from "./fields";
import { RESOURCE_NAME_PATTERN, resourceNamesFor } from "./naming";
import type { Operation } from "./operations";
import { segments, soleGroup, unmask, withoutGroups } from "./scan";
import { parseRelations } from "./natural";
import { extractTitle } from "./title";

export interface ClauseParse {
  ops: Operation[];
  errors: string[];
}

const NAME = "([A-Za-z][\\w-]*)";
const NOUN = "(?:resource|resources|table|model|entity|collection)";
const TAIL = "\\s*[.!]*$";

const TITLE_COMMAND = /^(?:rename|call|name|title)\s+(?:the\s+)?(?:api|it)\s+(?:to\s+|as\s+)?(.+)$/i;
const ADD = /^(?:add|include)\b\s*(.*)$/is;
/** "Create/build/make …" introduces a description; "to …" after it is a purpose, not a target. */
const CREATE = /^(?:create|build|make|design|generate)\b\s*(.*)$/is;
const ADD_TARGET = new RegExp(`^(.*?)\\s+(?:to|on|onto|into)\\s+(?:the\\s+)?${NAME}(?:\\s+(?:${NOUN}|too|as\\s+well))*${TAIL}`, "is");
const FIELDS_PAYLOAD =
  /^(?:(?:the|some|new|more|extra|these|following)\s+)*(?:fields?|columns?|attributes?|propert(?:y|ies))\s*:?\s*(\uE000\d+\uE001)$/i;
const CHILD_PAYLOAD = new RegExp(
  `^(?:(?:an?|the|new|some)\\s+)*${NAME}(?:\\s+${NOUN})?(?:\\s+with(?:\\s+fields)?)?\\s*:?\\s*(\\uE000\\d+\\uE001)$`,
  "i",
);
const REMOVE = new RegExp(`^(?:remove|delete|drop)\\s+(.+?)(?:\\s+(?:from|in|on|of)\\s+(?:the\\s+)?${NAME}(?:\\s+${NOUN})?)?${TAIL}`, "is");
const RENAME = new RegExp(
  `^rename\\s+(?:the\\s+)?(?:(?:field|column|${NOUN})\\s+)?${NAME}(?:\\s+(?:field|column|${NOUN}))?\\s+(?:to|as|into)\\s+${NAME}(?:\\s+(?:in|on|of|from)\\s+(?:the\\s+)?${NAME}(?:\\s+${NOUN})?)?${TAIL}`,
  "i",
);
const RENAME_VERB = /^rename\b/i;

/** Words between a resource name and its "(…)": "books with fields (…)". */
const SKIPPED_BEFORE_GROUP = new Set([
  "with",
  "having",
  "has",
  "have",
  "containing",
  "contains",
  "including",
  "fields",
  "field",
  "attributes",
  "properties",
  "columns",
  "resource",
  "resources",
  "table",
  "model",
  "entity",
  "its",
  "their",
  "of",
]);
const NOT_RESOURCE_NAMES = new Set(["api", "apis", "enum", "and", "or", "the", "a", "an", "also", "add", "include", "create", "it"]);

function resourceWordBefore(prose: string): string | undefined {
  const words = prose.match(/[A-Za-z][\w-]*/g) ?? [];
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i];
    if (word !== undefined && !SKIPPED_BEFORE_GROUP.has(word.toLowerCase())) return word;
  }
  return undefined;
}

function resourceFromGroup(word: string | undefined, inner: string, errors: string[]): Operation | undefined {
  const excerpt = inner.length > 40 ? `${inner.slice(0, 40)}…` : inner;
  if (word === undefined || NOT_RESOURCE_NAMES.has(word.toLowerCase())) {
    errors.push(
      `I found a field list "(${excerpt})" without a resource name before it; write a plural noun first, e.g. "books (title, author)".`,
    );
    return undefined;
  }
  const names = resourceNamesFor(word);
  if (!RESOURCE_NAME_PATTERN.test(names.name)) {
    errors.push(`"${word}" can't be a resource name; use letters and digits, e.g. "books" or "blog_posts".`);
    return undefined;
  }
  const parsed = parseFieldList(inner, names.name);
  errors.push(...parsed.errors);
  if (parsed.errors.length > 0) return undefined;
  if (parsed.fields.length === 0) {
    errors.push(`${names.name} has no fields; list them in the parentheses, e.g. "${names.name} (name, created:date)".`);
    return undefined;
  }
  return { kind: "define", resource: { ...names, fields: parsed.fields } };
}

/** Prose with "name (fields)" groups, and maybe a title ("A bookstore API with books (…)"). */
function parseDescription(clause: string, groups: readonly string[]): ClauseParse {
  const ops: Operation[] = [];
  const errors: string[] = [];
  const title = extractTitle(withoutGroups(clause, ";"));
  if (title !== undefined) ops.push({ kind: "title", title, fromProse: true });
  const parts = segments(clause);
  for (const segment of parts) {
    const op = resourceFromGroup(resourceWordBefore(segment.before), groups[segment.group] ?? "", errors);
    if (op !== undefined) ops.push(op);
  }
  // No "(…)" field lists: maybe plain relations ("users have lists, each list has tasks with a due date").
  if (parts.length === 0) ops.push(...(parseRelations(clause) ?? []));
  return { ops, errors };
}

function parseAddToTarget(payload: string, target: string, groups: readonly string[]): ClauseParse {
  const errors: string[] = [];
  const fieldsGroup = FIELDS_PAYLOAD.exec(payload)?.[1];
  const child = CHILD_PAYLOAD.exec(payload);
  if (fieldsGroup === undefined && child?.[1] !== undefined && child[2] !== undefined) {
    const op = resourceFromGroup(child[1], groups[soleGroup(child[2]) ?? -1] ?? "", errors);
    if (op?.kind !== "define") return { ops: [], errors };
    return { ops: [{ kind: "addChild", resource: op.resource, parent: target }], errors };
  }
  const text = fieldsGroup === undefined ? unmask(payload, groups) : (groups[soleGroup(fieldsGroup) ?? -1] ?? "");
  const label = resourceNamesFor(target).name;
  const parsed = parseFieldList(text, label);
  if (parsed.errors.length > 0) return { ops: [], errors: parsed.errors };
  if (parsed.fields.length === 0) return { ops: [], errors: [`I couldn't find fields to add to ${label} in "${text}".`] };
  return { ops: [{ kind: "addFields", target, fields: parsed.fields }], errors: [] };
}

/** "bio, the email field and phone" -> ["bio", "email", "phone"]. */
function nameList(text: string): string[] {
  return text
    .split(/\s*,\s*|\s+and\s+|\s*&\s*/i)
    .map((part) =>
      part
        .replace(/^(?:(?:the|a|an)\s+)+/i, "")
        .replace(new RegExp(`\\s+(?:fields?|columns?|${NOUN})$`, "i"), "")
        .trim(),
    )
    .filter((part) => part.length > 0);
}

function cleanTitle(raw: string): string {
  return raw
    .trim()
    .replace(/[.!]+$/, "")
    .replace(/^["']|["']$/g, "")
    .trim();
}

/** Parse one clause (placeholders in, operations out). Unknown prose yields no operations and no errors. */
export function parseClause(clause: string, groups: readonly string[]): ClauseParse {
  const titleCommand = TITLE_COMMAND.exec(clause);
  if (titleCommand?.[1] !== undefined && cleanTitle(unmask(titleCommand[1], groups)).length > 0) {
    return { ops: [{ kind: "title", title: cleanTitle(unmask(titleCommand[1], groups)) }], errors: [] };
  }
  const create = CREATE.exec(clause);
  if (create !== null) return parseDescription(create[1] ?? "", groups);
  const add = ADD.exec(clause);
  if (add !== null) {
    const rest = add[1] ?? "";
    const targeted = ADD_TARGET.exec(rest);
    if (targeted?.[1] !== undefined && targeted[2] !== undefined && targeted[1].trim().length > 0) {
      return parseAddToTarget(targeted[1].trim(), targeted[2], groups);
    }
    const afterGroups = /\uE001\s+(?:to|on|onto|into)\s+([^\uE000\uE001]*)$/i.exec(rest);
    if (afterGroups?.[1] !== undefined) {
      return {
        ops: [],
        errors: [`I couldn't tell which one resource to add to in "${unmask(clause, groups)}"; name one, e.g. "add tags (name) to posts".`],
      };
    }
    const described = parseDescription(rest, groups);
    if (described.ops.length === 0 && described.errors.length === 0) {
      return {
        ops: [],
        errors: [
          `I didn't understand what to add in "${unmask(clause, groups)}". Try "add pages:int to books" or "add reviews (rating:int 1..5, body) to books".`,
        ],
      };
    }
    return described;
  }
  const remove = REMOVE.exec(clause);
  if (remove?.[1] !== undefined) {
    const names = nameList(remove[1]);
    if (names.length === 0) return { ops: [], errors: [`I didn't understand what to remove in "${clause}".`] };
    const target = remove[2];
    return { ops: [target === undefined ? { kind: "remove", names } : { kind: "removeFields", target, names }], errors: [] };
  }
  if (RENAME_VERB.test(clause)) {
    const rename = RENAME.exec(clause);
    if (rename?.[1] === undefined || rename[2] === undefined) {
      return {
        ops: [],
        errors: [
          `I didn't understand "${unmask(clause, groups)}". Try "rename bio to biography in authors" or "rename writers to authors".`,
        ],
      };
    }
    const op: Operation = { kind: "rename", from: rename[1], to: rename[2] };
    if (rename[3] !== undefined) op.target = rename[3];
    return { ops: [op], errors: [] };
  }
  return parseDescription(clause, groups);
}
