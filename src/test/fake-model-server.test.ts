import { afterEach, describe, expect, it } from "vitest";
import { CANNED_TODO_PLAN, startFakeModelServer, type FakeModelServer, type WrittenChunk } from "./fake-model-server";

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The content deltas of a streamed chat completion, as an OpenAI client reads them. */
async function streamedContent(baseUrl: string): Promise<string[]> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-model", stream: true, messages: [{ role: "user", content: "a todo app" }] }),
  });
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((frame) => frame.startsWith("data: {"))
    .map((frame) => (JSON.parse(frame.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "")
    .filter((delta) => delta !== "");
}

describe("fake model server: written chunks", () => {
  it("reports every content chunk with its character range and write time, before its token event", async () => {
    server = await startFakeModelServer({ tokenSize: 7 });
    const chunks: WrittenChunk[] = [];
    const order: string[] = [];
    server.events.on("chunk", (_record, c) => {
      chunks.push(c);
      order.push(`chunk ${c.index}`);
    });
    server.events.on("token", (_record, n) => order.push(`token ${n}`));
    const before = performance.timeOrigin + performance.now();
    const deltas = await streamedContent(server.baseUrl);
    const content = JSON.stringify(CANNED_TODO_PLAN, null, 2);

    expect(deltas.join("")).toBe(content);
    expect(chunks).toHaveLength(deltas.length);
    chunks.forEach((c, i) => {
      expect(c.index).toBe(i);
      expect(c.offset).toBe(i === 0 ? 0 : chunks[i - 1]?.end);
      expect(content.slice(c.offset, c.end)).toBe(deltas[i]);
      expect(c.writtenAt).toBeGreaterThanOrEqual(i === 0 ? before : (chunks[i - 1]?.writtenAt ?? Infinity));
    });
    expect(chunks.at(-1)?.end).toBe(content.length);
    expect(order.slice(0, 4)).toEqual(["chunk 0", "token 1", "chunk 1", "token 2"]);
  });

  it("reports the chunks of a cut stream up to the cut", async () => {
    server = await startFakeModelServer({ tokenSize: 4 });
    server.script({ kind: "cut", content: "0123456789abcdef", afterTokens: 2 });
    const chunks: WrittenChunk[] = [];
    server.events.on("chunk", (_record, c) => chunks.push(c));
    await streamedContent(server.baseUrl).catch(() => []);
    expect(chunks.map((c) => [c.offset, c.end])).toEqual([
      [0, 4],
      [4, 8],
    ]);
  });

  it("reports the chunks of a held stream with offsets that continue after the release, under one completion id", async () => {
    server = await startFakeModelServer({ tokenSize: 4 });
    const fake = server;
    fake.script({ kind: "hold", content: "0123456789abcdef", afterTokens: 2 });
    const chunks: WrittenChunk[] = [];
    fake.events.on("chunk", (_record, c) => chunks.push(c));
    fake.events.once("held", () => fake.release());
    const res = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fake-model", stream: true, messages: [] }),
    });
    const ids = new Set((await res.text()).match(/"id":"chatcmpl-\d+"/g));
    expect(chunks.map((c) => [c.index, c.offset, c.end])).toEqual([
      [0, 0, 4],
      [1, 4, 8],
      [2, 8, 12],
      [3, 12, 16],
    ]);
    expect(ids.size).toBe(1);
  });

  it("holds the end of an answer that has written every token until releaseEnds()", async () => {
    server = await startFakeModelServer({ tokenSize: 5 });
    const fake = server;
    fake.holdEnds();
    const res = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fake-model", stream: true, messages: [] }),
    });
    const reader = (res.body ?? new ReadableStream<Uint8Array>()).getReader();
    const decoder = new TextDecoder();
    const content = JSON.stringify(CANNED_TODO_PLAN, null, 2);
    let raw = "";
    const text = (): string =>
      raw
        .split("\n\n")
        .filter((frame) => frame.startsWith("data: {"))
        .map((frame) => (JSON.parse(frame.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "")
        .join("");
    while (text() !== content) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += decoder.decode(value, { stream: true });
    }
    expect(text()).toBe(content);
    expect(raw).not.toContain("[DONE]");
    expect(raw).not.toContain('"finish_reason":"stop"');
    fake.releaseEnds();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += decoder.decode(value, { stream: true });
    }
    expect(raw).toContain('"finish_reason":"stop"');
    expect(raw.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("holds streamed answers until every held request has arrived, then streams them all", async () => {
    server = await startFakeModelServer();
    const fake = server;
    const order: string[] = [];
    fake.events.on("request", (record) => order.push(`request ${fake.requests.indexOf(record)}`));
    fake.events.on("chunk", (record, c) => {
      if (c.index === 0) order.push(`chunk of ${fake.requests.indexOf(record)}`);
    });
    const released = fake.holdStreams(2);
    const firstArrived = new Promise<void>((resolve) => fake.events.once("request", () => resolve()));
    const first = streamedContent(fake.baseUrl);
    await firstArrived;
    // Unheld, the first answer (token rate 0) would be written before a second request could arrive.
    const second = streamedContent(fake.baseUrl);
    const answers = await Promise.all([first, second]);
    const content = JSON.stringify(CANNED_TODO_PLAN, null, 2);
    expect(answers.map((a) => a.join(""))).toEqual([content, content]);
    expect(order.slice(0, 2)).toEqual(["request 0", "request 1"]);
    expect(order.slice(2).sort()).toEqual(["chunk of 0", "chunk of 1"]);
    await released;
    // The hold is used up: the next answer streams at once.
    expect((await streamedContent(fake.baseUrl)).join("")).toBe(content);
  });
});
