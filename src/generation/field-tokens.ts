/** Tokens of one field description such as `rating:int 1..5` or `author? -> authors unique`. */
export type FieldToken =
  | { kind: "word"; text: string }
  | { kind: "arrow" }
  | { kind: "colon" }
  | { kind: "question" }
  | { kind: "range"; min?: number; max?: number }
  | { kind: "number"; value: number }
  | { kind: "group"; inner: string };

export type TokenizeResult = { ok: true; tokens: FieldToken[] } | { ok: false; unexpected: string };

const NUMBER = "-?\\d+(?:\\.\\d+)?";
const PATTERNS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => FieldToken | null]> = [
  [/\s+/y, () => null],
  [/->|→|=>/y, () => ({ kind: "arrow" })],
  [new RegExp(`(${NUMBER})?\\s*\\.\\.\\s*(${NUMBER})?`, "y"), rangeToken],
  [new RegExp(NUMBER, "y"), (m) => ({ kind: "number", value: Number(m[0]) })],
  [/[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*/y, (m) => ({ kind: "word", text: m[0] })],
  [/:/y, () => ({ kind: "colon" })],
  [/\?/y, () => ({ kind: "question" })],
];

function rangeToken(m: RegExpExecArray): FieldToken {
  const token: FieldToken = { kind: "range" };
  if (m[1] !== undefined) token.min = Number(m[1]);
  if (m[2] !== undefined) token.max = Number(m[2]);
  return token;
}

/** Length of a balanced "(…)" starting at `start`, or -1 when it is not closed. */
function groupEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0) return i;
  }
  return -1;
}

export function tokenizeField(text: string): TokenizeResult {
  const tokens: FieldToken[] = [];
  let at = 0;
  outer: while (at < text.length) {
    if (text[at] === "(") {
      const end = groupEnd(text, at);
      if (end < 0) return { ok: false, unexpected: "(" };
      tokens.push({ kind: "group", inner: text.slice(at + 1, end) });
      at = end + 1;
      continue;
    }
    for (const [pattern, make] of PATTERNS) {
      pattern.lastIndex = at;
      const match = pattern.exec(text);
      // A range with neither bound (a bare "..") is not a range; let it fall through to "unexpected".
      if (match === null || match[0].length === 0) continue;
      const token = make(match);
      if (token?.kind === "range" && token.min === undefined && token.max === undefined) continue;
      if (token !== null) tokens.push(token);
      at += match[0].length;
      continue outer;
    }
    return { ok: false, unexpected: text.slice(at, at + 12) };
  }
  return { ok: true, tokens };
}
