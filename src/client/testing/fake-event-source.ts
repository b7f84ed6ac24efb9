import type { ProgressEvent } from "../../streaming/protocol";
import type { EventSourceLike, MessageEventLike } from "../event-source";

/** A scriptable EventSource for tests: the test plays the server, frame by frame. */
export class FakeEventSource implements EventSourceLike {
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEventLike) => void)[]>();

  constructor(readonly url: string) {}

  /** The `cursor` query parameter this socket was opened with. */
  get cursor(): string | null {
    return new URL(this.url, "http://localhost").searchParams.get("cursor");
  }

  addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.dispatch("open", {});
  }

  /** A named frame; objects are JSON-encoded, strings sent raw (to test malformed data). */
  frame(type: string, data: unknown, id?: string): void {
    this.dispatch(type, { data: typeof data === "string" ? data : JSON.stringify(data), lastEventId: id ?? "" });
  }

  progress(id: string, key: string, event: ProgressEvent): void {
    this.frame(event.type, { key, event }, id);
  }

  ready(connectionId: string, cursor: string): void {
    this.frame("ready", { connectionId, cursor });
  }

  /** A transport failure: a plain event without data. */
  fail(): void {
    this.dispatch("error", {});
  }

  private dispatch(type: string, event: MessageEventLike): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

/** A factory recording every socket the client opens. */
export function fakeEventSources() {
  const all: FakeEventSource[] = [];
  return {
    all,
    create: (url: string): FakeEventSource => {
      const source = new FakeEventSource(url);
      all.push(source);
      return source;
    },
    latest(): FakeEventSource {
      const source = all[all.length - 1];
      if (source === undefined) throw new Error("no EventSource opened");
      return source;
    },
  };
}
