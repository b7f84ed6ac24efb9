/**
 * Text-level pass over a chat message: parenthesised groups are swapped for placeholders so the
 * prose around them can be split into clauses and matched with simple patterns without ever
 * looking inside a field list (which may itself contain commas, "and" or `enum(a|b)`).
 */

const OPEN = "\uE000";
const CLOSE = "\uE001";
const PLACEHOLDER = /\uE000(\d+)\uE001/g;
const PLACEHOLDER_ONLY = /^\uE000(\d+)\uE001$/;

export interface MaskedText {
  text: string;
  /** Inner text of each top-level group, by placeholder index. */
  groups: string[];
}

export type MaskResult = { ok: true; masked: MaskedText } | { ok: false; error: string };

function near(text: string, at: number): string {
  const snippet = text
    .slice(Math.max(0, at - 25), at + 25)
    .replace(/\s+/g, " ")
    .trim();
  return `"${snippet}"`;
}

export function normalizeInput(text: string): string {
  return text
    .replace(/[\uE000-\uF8FF]/g, "") // private-use chars are our placeholder markers
    .replace(/\r\n?/g, "\n")
    .replace(/[\t\f\v\u00A0]/g, " ")
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201C\u201D]/g, '"');
}

export function maskGroups(text: string): MaskResult {
  const groups: string[] = [];
  let out = "";
  let depth = 0;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === "(") {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === ")") {
      if (depth === 0) return { ok: false, error: `There is a ")" without a matching "(" near ${near(text, i)}.` };
      depth--;
      if (depth === 0) {
        out += `${OPEN}${groups.length}${CLOSE}`;
        groups.push(text.slice(start + 1, i));
      }
    } else if (depth === 0) {
      out += ch;
    }
  }
  if (depth > 0) return { ok: false, error: `The "(" near ${near(text, start)} is never closed; add the missing ")".` };
  return { ok: true, masked: { text: out, groups } };
}

/** Put the original "(…)" back, e.g. for a bare field list like `status:enum(a|b)`. */
export function unmask(text: string, groups: readonly string[]): string {
  return text.replace(PLACEHOLDER, (_m, n: string) => `(${groups[Number(n)] ?? ""})`);
}

/** Index of the group if `text` is exactly one placeholder. */
export function soleGroup(text: string): number | undefined {
  const match = PLACEHOLDER_ONLY.exec(text.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export interface Segment {
  /** Prose before the group (may contain earlier placeholders removed). */
  before: string;
  group: number;
}

/** Each placeholder with the prose between it and the previous one. */
export function segments(text: string): Segment[] {
  const result: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    result.push({ before: text.slice(last, match.index), group: Number(match[1]) });
    last = match.index + match[0].length;
  }
  return result;
}

/** Prose without the groups; each group becomes `separator`, e.g. ";" to end a phrase. */
export function withoutGroups(text: string, separator = " "): string {
  return text.replace(PLACEHOLDER, separator);
}

const VERB = "(?:also\\s+)?(?:add|include|remove|delete|drop|rename)\\b";
/**
 * A break before "then" / "and <verb>" starts at its comma, or else at the last space before the word
 * (with any newlines after that space), never with a leading `\s+`: the engine tried that at every
 * position of a run of spaces and scanned the rest of the run each time (quadratic: 20k spaces took
 * 0.4 s, 200k most of a minute). The clauses are the same as with `,?\s+`: the spaces left before the
 * break are trimmed off the clause, and a run of newlines alone still breaks as a line end, leaving
 * the word to LEADING_FILLER, as before.
 */
const BEFORE_WORD = "(?:,\\s+|[^\\S\\n]\\n*)";
const CLAUSE_BREAK = new RegExp(
  [
    "\\n+",
    ";",
    "(?<!\\.)\\.(?!\\.)(?=\\s|$)", // sentence end, but not the ".." of a range
    `${BEFORE_WORD}(?:and\\s+)?then\\s+`,
    ",\\s*(?:and\\s+)?(?=also\\b)",
    `${BEFORE_WORD}and\\s+(?=${VERB})`,
    `,\\s*(?=${VERB})`,
  ].join("|"),
  "i",
);

const LEADING_FILLER = /^(?:[-*•>]+\s*|\d+[.)]\s+|(?:please|ok|okay|now|next|then|also|and|plus|finally|so)\b[\s,:]*)+/i;

/** Split masked text into clauses: sentences, lines, and "…, and remove …" style commands. */
export function splitClauses(maskedText: string): string[] {
  return maskedText
    .split(CLAUSE_BREAK)
    .map((clause) => clause.trim().replace(LEADING_FILLER, "").trim())
    .filter((clause) => clause.length > 0);
}
