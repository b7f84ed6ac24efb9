import type { ReactNode } from "react";

/**
 * A tiny tokenizer for JSON and TypeScript: strings, numbers, keywords, comments. Output is React
 * text nodes (never HTML), so generated content cannot inject markup.
 */
const TOKEN =
  /("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\/\/[^\n]*)|\b(\d+(?:\.\d+)?)\b|\b(import|export|from|const|let|return|async|await|function|type|interface|if|else|new|true|false|null|undefined|for|of)\b/g;

export function highlight(code: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let i = 0;
  for (const m of code.matchAll(TOKEN)) {
    const index = m.index ?? 0;
    if (index > last) out.push(code.slice(last, index));
    const cls = m[1] ? (code[index + m[0].length] === ":" ? "tok-key" : "tok-str") : m[2] ? "tok-com" : m[3] ? "tok-num" : "tok-kw";
    out.push(
      <span key={i++} className={cls}>
        {m[0]}
      </span>,
    );
    last = index + m[0].length;
  }
  if (last < code.length) out.push(code.slice(last));
  return out;
}
