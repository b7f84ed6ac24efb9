/**
 * Incremental SSE parser (WHATWG event-stream rules) for Node: tests, the benchmark and load
 * clients. Chunks may split anywhere, including inside a UTF-8 sequence or a CRLF.
 */

export interface SseFrame {
  /** Present only when this frame had its own `id:` line. */
  id?: string;
  /** `message` when the frame had no `event:` line. */
  event: string;
  data: string;
}

export class SseParser {
  /** Last `retry:` value seen, in ms. */
  retry: number | undefined;
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  /** Index in `buffer` up to which no line break was found (avoids rescanning long partial lines). */
  private scanned = 0;
  private started = false;
  private data: string[] = [];
  private event = "";
  private id: string | undefined;

  push(chunk: Uint8Array | string): SseFrame[] {
    this.buffer += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && this.buffer.length > 0) {
      this.started = true;
      if (this.buffer.charCodeAt(0) === 0xfeff) this.buffer = this.buffer.slice(1);
    }
    const frames: SseFrame[] = [];
    const buf = this.buffer;
    let lineStart = 0;
    let i = this.scanned;
    for (; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR at the very end may be the first half of CRLF: decide when more arrives.
      if (c === 13 && i + 1 === buf.length) break;
      this.line(buf.slice(lineStart, i), frames);
      if (c === 13 && buf.charCodeAt(i + 1) === 10) i++;
      lineStart = i + 1;
    }
    this.buffer = buf.slice(lineStart);
    this.scanned = i - lineStart;
    return frames;
  }

  private line(line: string, frames: SseFrame[]): void {
    if (line === "") return this.dispatch(frames);
    if (line.charCodeAt(0) === 58 /* ":" comment */) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }

  private dispatch(frames: SseFrame[]): void {
    // Per spec a block without data dispatches nothing (e.g. the lone `retry:` block).
    if (this.data.length > 0) {
      const frame: SseFrame = { event: this.event || "message", data: this.data.join("\n") };
      if (this.id !== undefined) frame.id = this.id;
      frames.push(frame);
    }
    this.data = [];
    this.event = "";
    this.id = undefined;
  }
}

export async function* parseSseStream(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseFrame> {
  const parser = new SseParser();
  for await (const chunk of source) yield* parser.push(chunk);
}
