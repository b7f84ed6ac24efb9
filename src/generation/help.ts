import type { ApiPlan } from "./plan";

export const FIRST_EXAMPLE =
  "A bookstore API with books (title, author -> authors, isbn unique, price:number, published:date) and authors (name, bio?)";

export const FOLLOW_UP_EXAMPLES = [
  "add reviews (rating:int 1..5, body) to books",
  "add pages:int, subtitle? to books",
  "remove bio from authors",
  "rename bio to biography in authors",
  "also publishers (name, country?)",
] as const;

const SYNTAX =
  "Fields are `name` (text), `name:type` with type number, int, boolean, date, datetime or enum(a|b|c); " +
  "add `?` for optional (`bio?`), `unique`, a range like `rating:int 1..5`, or a reference like `author -> authors`.";

export interface ReplyInput {
  problems: readonly string[];
  understood: readonly string[];
  previous: ApiPlan | null;
  /** The grammar's replies say that a language model takes free-form descriptions; the model planner's don't. */
  modelHint?: boolean;
}

export const MODEL_HINT =
  "To describe an API in your own words, configure a language model: set LLM_BASE_URL to any OpenAI-compatible endpoint (e.g. Ollama's http://localhost:11434/v1) and LLM_MODEL.";

/** A chat reply stays short even when a pasted message produced hundreds of problems. */
const MAX_BULLETS = 12;

function bullets(lines: readonly string[]): string {
  const shown = lines.slice(0, MAX_BULLETS).map((line) => `- ${line}`);
  if (lines.length > MAX_BULLETS) shown.push(`- …and ${lines.length - MAX_BULLETS} more`);
  return shown.join("\n");
}

function examples(previous: ApiPlan | null): string {
  if (previous === null) {
    return `Describe the resources as plural nouns, each followed by its fields in parentheses, for example:\n\n\`${FIRST_EXAMPLE}\`\n\n${SYNTAX}`;
  }
  const current = previous.resources.map((r) => r.name).join(", ");
  const lines = FOLLOW_UP_EXAMPLES.map((e) => `- \`${e}\``).join("\n");
  return `The current API is "${previous.title}" (v${previous.version}: ${current}). You can change it with messages like:\n${lines}\n\n${SYNTAX}`;
}

/** The friendly reply for a message that did not produce a plan: what went wrong, what was understood, what works. */
export function failureReply({ problems, understood, previous, modelHint = true }: ReplyInput): string {
  const parts: string[] = [];
  if (problems.length === 1) parts.push(problems[0] ?? "");
  else parts.push(`I couldn't ${previous === null ? "build" : "update"} the API:\n${bullets(problems)}`);
  if (understood.length > 0) parts.push(`What I understood:\n${bullets(understood)}`);
  parts.push(examples(previous));
  if (modelHint) parts.push(MODEL_HINT);
  return parts.join("\n\n");
}
