import { titleCase } from "./naming";

/** Words that surround "API" in requests but never name it ("build me a simple REST API"). */
const NOT_A_NAME = new Set([
  "a",
  "an",
  "the",
  "me",
  "i",
  "we",
  "us",
  "my",
  "our",
  "your",
  "need",
  "want",
  "would",
  "like",
  "build",
  "create",
  "make",
  "generate",
  "design",
  "write",
  "give",
  "please",
  "for",
  "with",
  "to",
  "of",
  "and",
  "that",
  "which",
  "simple",
  "basic",
  "small",
  "tiny",
  "little",
  "new",
  "rest",
  "restful",
  "http",
  "json",
  "crud",
  "web",
  "some",
  "this",
  "it",
  "is",
  "be",
  "can",
  "could",
  "should",
  "let",
  "lets",
  "let's",
  "hi",
  "hello",
  "hey",
  "about",
  "on",
  "in",
  "called",
  "named",
  // Words that start a clause about the API's contents, never part of its name ("a todo app where users …").
  "where",
  "whose",
  "who",
  "when",
  "so",
  "has",
  "have",
  "having",
  "each",
  "every",
]);

const WORD = /[A-Za-z][A-Za-z0-9'&-]*/g;

function nameWords(words: readonly string[]): string[] {
  const kept: string[] = [];
  for (const word of words) {
    if (NOT_A_NAME.has(word.toLowerCase())) {
      if (kept.length > 0) break;
      continue;
    }
    if (kept.length === 3) break;
    kept.push(word);
  }
  return kept;
}

/**
 * The API's title from prose like "A bookstore API", "an API for a pet shop", or
 * `an API called "Shelf"`. Returns undefined when the prose names nothing.
 */
export function extractTitle(prose: string): string | undefined {
  const called = /\b(?:called|named)\s+(?:"([^"]{1,60})"|'([^']{1,60})'|([A-Za-z][\w-]*(?:\s+API)?))/i.exec(prose);
  const calledName = called?.[1] ?? called?.[2] ?? called?.[3];
  if (calledName !== undefined && calledName.trim().length > 0) return titleCase(calledName.trim());

  const api = /\bAPIs?\b/i.exec(prose);
  if (api === null) return undefined;
  // Punctuation ends a phrase: in "an API for a library: books (…)" the name is just "library".
  const before =
    (
      prose
        .slice(0, api.index)
        .split(/[,:;.!?]/)
        .pop() ?? ""
    )
      .match(WORD)
      ?.slice(-4) ?? [];
  // Only the words right before "API", so "I want a bookstore API" stops at "a".
  const lastStop = before.map((w) => NOT_A_NAME.has(w.toLowerCase())).lastIndexOf(true);
  const adjacent = nameWords(before.slice(lastStop + 1));
  if (adjacent.length > 0) return `${titleCase(adjacent.join(" "))} API`;

  const after = (prose.slice(api.index + api[0].length).split(/[,:;.!?]/)[0] ?? "").match(WORD) ?? [];
  if (after[0]?.toLowerCase() === "for") {
    const object = nameWords(after.slice(1));
    if (object.length > 0) return `${titleCase(object.join(" "))} API`;
  }
  return undefined;
}
