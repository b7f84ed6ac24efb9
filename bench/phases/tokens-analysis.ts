import type { TokenProjectResult } from "../client/tokens";
import type { WrittenChunk } from "../../src/test/fake-model-server";

/** One text event of a generation: how many model chunks it completed, and when each connection got it. */
export interface Delivery {
  tokens: number;
  receipts: number[];
}

/** One generation's stream, matched chunk by chunk against what the model server wrote. */
export interface ProjectAnalysis {
  chunks: number;
  firstWriteAt: number;
  lastWriteAt: number;
  /** Per chunk: written by the model server -> the text event completing it received by every connection. */
  everyClientMs: number[];
  /** Per chunk: written -> received by the first connection. */
  firstClientMs: number[];
  /** Per connection: text events / the model's streaming time (first to last chunk written). */
  eventsPerConnectionPerSecond: number[];
  textEvents: number;
  deliveries: Delivery[];
  problems: string[];
}

/**
 * Matches a generation's text events against the chunks the model server wrote for it. The text is
 * deterministic, so the event whose text ends at or after a chunk's end offset is the one that
 * completed that chunk on every connection that received it. Correctness first: every text event
 * on every connection, one attempt, the attempt's text equal to what the model wrote, the run
 * completed on every connection.
 */
export function analyseProject(
  chunks: readonly WrittenChunk[],
  result: TokenProjectResult,
  content: string,
  connectionsPerProject: number,
): ProjectAnalysis {
  const problems: string[] = [];
  const n = result.connections;
  if (result.sendError) problems.push(`message.send failed: ${result.sendError}`);
  if (n < connectionsPerProject) problems.push(`${connectionsPerProject - n} of ${connectionsPerProject} connections never got ready`);
  if (result.dropped > 0) problems.push(`${result.dropped} connection(s) closed by the server before the run ended`);
  problems.push(...result.orderErrors);
  const completed = result.terminal["run.completed"] ?? 0;
  if (completed !== n) problems.push(`run.completed on ${completed} of ${n} connections (${JSON.stringify(result.terminal)})`);

  const attempts = new Set(result.events.map((e) => `${e.runId}:${e.attempt}`));
  if (attempts.size !== 1) problems.push(`${attempts.size} text attempts (${[...attempts].join(", ")}); expected exactly one`);
  const events = [...result.events].sort((a, b) => a.offset - b.offset);
  const text = events.map((e) => e.text).join("");
  if (text !== content) {
    let at = 0;
    while (at < text.length && text[at] === content[at]) at++;
    problems.push(`the text events spell ${text.length} characters, not the model's ${content.length} (first difference at ${at})`);
  }
  const missed = events.filter((e) => e.receipts.length !== n);
  if (missed.length > 0) problems.push(`${missed.length} of ${events.length} text events did not reach every connection`);
  const counts = result.textEventsPerConnection;
  const short = counts.filter((c) => c !== events.length).length;
  if (short > 0) problems.push(`${short} connection(s) received a different number of text events than ${events.length}`);

  const sorted = [...chunks].sort((a, b) => a.index - b.index);
  if (sorted.length === 0) problems.push("the model server wrote no chunk for this generation");
  const lastChunk = sorted.at(-1);
  if (lastChunk && lastChunk.end !== content.length)
    problems.push(`the model server wrote ${lastChunk.end} of ${content.length} characters`);
  const everyClientMs: number[] = [];
  const firstClientMs: number[] = [];
  const tokens = events.map(() => 0);
  let k = 0;
  for (const c of sorted) {
    while (k < events.length && (events[k]?.end ?? 0) < c.end) k++;
    const e = events[k];
    if (!e) break; // reported above: the events do not spell the whole text
    tokens[k] = (tokens[k] ?? 0) + 1;
    if (e.receipts.length === 0) continue;
    firstClientMs.push(Math.min(...e.receipts) - c.writtenAt);
    if (e.receipts.length === n) everyClientMs.push(Math.max(...e.receipts) - c.writtenAt);
  }
  const firstWriteAt = sorted[0]?.writtenAt ?? Number.NaN;
  const lastWriteAt = lastChunk?.writtenAt ?? Number.NaN;
  const streamMs = lastWriteAt - firstWriteAt;
  return {
    chunks: sorted.length,
    firstWriteAt,
    lastWriteAt,
    everyClientMs,
    firstClientMs,
    eventsPerConnectionPerSecond: streamMs > 0 ? counts.map((c) => (c * 1000) / streamMs) : [],
    textEvents: events.length,
    deliveries: events.map((e, i) => ({ tokens: tokens[i] ?? 0, receipts: e.receipts })),
    problems,
  };
}

/** Model chunks delivered (a chunk on one connection = one delivered token) with receipt time in [from, to]. */
export function deliveredTokens(projects: readonly ProjectAnalysis[], from = -Infinity, to = Infinity): number {
  let total = 0;
  for (const p of projects)
    for (const d of p.deliveries) {
      if (d.tokens === 0) continue;
      let inside = 0;
      for (const r of d.receipts) if (r >= from && r <= to) inside++;
      total += d.tokens * inside;
    }
  return total;
}
