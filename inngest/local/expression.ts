/**
 * The small CEL subset the SDK emits: paths (`event.data.x`, `async.data["y"]`), literals,
 * `== != < <= > >=`, `+`, `!`, `&&`, `||` and parentheses. Anything else is refused when it is
 * compiled (at sync), so an expression is never silently mis-evaluated.
 */

export class ExpressionError extends Error {
  override name = "ExpressionError";
}

type Node =
  | { kind: "literal"; value: unknown }
  | { kind: "path"; root: string; keys: string[] }
  | { kind: "not"; operand: Node }
  | { kind: "binary"; op: BinaryOp; left: Node; right: Node };

type BinaryOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "+" | "&&" | "||";

type Token =
  { kind: "op"; text: string } | { kind: "ident"; text: string } | { kind: "string"; value: string } | { kind: "number"; value: number };

const OPERATORS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "!", "(", ")", ".", "[", "]", ","];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = "";
      let j = i + 1;
      while (j < source.length && source.charAt(j) !== ch) {
        if (source.charAt(j) === "\\" && j + 1 < source.length) j++;
        value += source.charAt(j);
        j++;
      }
      if (j >= source.length) throw new ExpressionError(`unterminated string in "${source}"`);
      tokens.push({ kind: "string", value });
      i = j + 1;
      continue;
    }
    const number = /^\d+(\.\d+)?/.exec(source.slice(i));
    if (number) {
      tokens.push({ kind: "number", value: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
    if (!op) throw new ExpressionError(`unsupported character "${ch}" in "${source}"`);
    tokens.push({ kind: "op", text: op });
    i += op.length;
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
    private readonly roots: readonly string[],
  ) {}

  parse(): Node {
    const node = this.binary(0);
    if (this.pos < this.tokens.length) this.fail("unexpected trailing input");
    return node;
  }

  private static readonly LEVELS: BinaryOp[][] = [["||"], ["&&"], ["==", "!=", "<", "<=", ">", ">="], ["+"]];

  private binary(level: number): Node {
    const ops = Parser.LEVELS[level];
    if (!ops) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const token = this.tokens[this.pos];
      const op = token?.kind === "op" ? ops.find((o) => o === token.text) : undefined;
      if (!op) return left;
      this.pos++;
      left = { kind: "binary", op, left, right: this.binary(level + 1) };
    }
  }

  private unary(): Node {
    if (this.peekOp("!")) {
      this.pos++;
      return { kind: "not", operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.tokens[this.pos++];
    if (!token) return this.fail("unexpected end");
    if (token.kind === "string" || token.kind === "number") return { kind: "literal", value: token.value };
    if (token.kind === "op" && token.text === "(") {
      const inner = this.binary(0);
      if (!this.peekOp(")")) this.fail("missing )");
      this.pos++;
      return inner;
    }
    if (token.kind === "ident") {
      if (token.text === "true") return { kind: "literal", value: true };
      if (token.text === "false") return { kind: "literal", value: false };
      if (token.text === "null") return { kind: "literal", value: null };
      if (!this.roots.includes(token.text)) {
        this.fail(`unknown name "${token.text}" (allowed: ${this.roots.join(", ")})`);
      }
      return { kind: "path", root: token.text, keys: this.pathKeys() };
    }
    return this.fail(`unexpected "${token.text}"`);
  }

  private pathKeys(): string[] {
    const keys: string[] = [];
    for (;;) {
      if (this.peekOp(".")) {
        const next = this.tokens[this.pos + 1];
        if (next?.kind !== "ident") this.fail("expected a field name after .");
        if (next?.kind === "ident") keys.push(next.text);
        this.pos += 2;
        if (this.peekOp("(")) this.fail("function calls are not supported");
      } else if (this.peekOp("[")) {
        const key = this.tokens[this.pos + 1];
        if (key?.kind !== "string" && key?.kind !== "number") this.fail("expected a literal index");
        if (key?.kind === "string" || key?.kind === "number") keys.push(String(key.value));
        this.pos += 2;
        if (!this.peekOp("]")) this.fail("missing ]");
        this.pos++;
      } else {
        return keys;
      }
    }
  }

  private peekOp(text: string): boolean {
    const token = this.tokens[this.pos];
    return token?.kind === "op" && token.text === text;
  }

  private fail(reason: string): never {
    throw new ExpressionError(`${reason} in expression "${this.source}"`);
  }
}

function lookup(value: unknown, keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** `< <= > >=` on two numbers or two strings; anything else does not match. */
function compare(op: "<" | "<=" | ">" | ">=", a: unknown, b: unknown): boolean {
  const sameKind = (typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string");
  if (!sameKind) return false;
  // Narrowed by `sameKind` (TypeScript follows the aliased condition).
  const x = a;
  const y = b;
  if (op === "<") return x < y;
  if (op === "<=") return x <= y;
  if (op === ">") return x > y;
  return x >= y;
}

function evaluate(node: Node, scope: Readonly<Record<string, unknown>>): unknown {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "path":
      return lookup(scope[node.root], node.keys);
    case "not":
      return evaluate(node.operand, scope) === false;
    case "binary": {
      if (node.op === "&&") return evaluate(node.left, scope) === true && evaluate(node.right, scope) === true;
      if (node.op === "||") return evaluate(node.left, scope) === true || evaluate(node.right, scope) === true;
      const a = evaluate(node.left, scope);
      const b = evaluate(node.right, scope);
      // Like CEL, a missing field is an error, and an erroring comparison never matches.
      if (a === undefined || b === undefined) return node.op === "+" ? undefined : false;
      switch (node.op) {
        case "==":
          return JSON.stringify(a) === JSON.stringify(b);
        case "!=":
          return JSON.stringify(a) !== JSON.stringify(b);
        case "+":
          if (typeof a === "number" && typeof b === "number") return a + b;
          return typeof a === "string" && typeof b === "string" ? a + b : undefined;
        default:
          return compare(node.op, a, b);
      }
    }
  }
}

export interface Expression {
  readonly source: string;
  evaluate(scope: Readonly<Record<string, unknown>>): unknown;
}

/** Compile `source`; names other than `roots` (e.g. `async` in a trigger) are refused. */
export function compileExpression(source: string, roots: readonly string[]): Expression {
  const node = new Parser(tokenize(source), source, roots).parse();
  return { source, evaluate: (scope) => evaluate(node, scope) };
}
