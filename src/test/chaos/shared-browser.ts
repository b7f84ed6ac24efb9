import { trpcSubscriptionCalls } from "../../client/shared-stream/calls";
import { StreamHolder } from "../../client/shared-stream/holder";
import type { HolderMessage } from "../../client/shared-stream/messages";
import { TabLink } from "../../client/shared-stream/tab-link";
import { NodeEventSource } from "./node-event-source";
import type { Random } from "./seeded-random";

export interface SharedBrowserOptions {
  /** `http://host:port` the browser's one stream (`GET /api/stream`) goes to. */
  streamURL: string;
  /** `http://host:port` its `stream.subscribe` calls go to (another instance, to cross the control channel). */
  callsURL: string;
  /** The session cookie every request carries, as a browser's would. */
  headers: Record<string, string>;
  random?: Random;
}

/**
 * A browser for Node tests: the real `StreamHolder` (as the SharedWorker runs it) on one
 * `NodeEventSource`, and tabs linked to it through microtasks, as ports deliver. `drop()` kills the
 * shared socket under every tab at once.
 */
export class SharedBrowser {
  readonly holder: StreamHolder;
  sockets = 0;
  drops = 0;
  /**
   * What crossed the holder's edges, in order (tabs' opens and closes, frames to each source, its
   * calls and their answers, the frames of its sockets, drops): printed when a chaos run fails.
   */
  readonly trace: string[] = [];
  private readonly started = performance.now();
  private current: NodeEventSource | null = null;
  private dropAtOpen = false;
  private tabs = 0;

  constructor(options: SharedBrowserOptions) {
    const calls = trpcSubscriptionCalls(`${options.callsURL}/api/trpc`, options.headers);
    this.holder = new StreamHolder({
      calls: {
        subscribe: (input) => this.traced(`subscribe ${input.connectionId.slice(0, 8)} from ${input.cursor}`, calls.subscribe(input)),
        unsubscribe: (input) => this.traced(`unsubscribe ${input.connectionId.slice(0, 8)}`, calls.unsubscribe(input)),
      },
      createEventSource: (path) => this.open(`${options.streamURL}${path}`, options.headers),
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** A new tab of this browser. */
  tab(): TabLink {
    const name = `tab${++this.tabs}`;
    const sink = (message: HolderMessage) => {
      this.note(`${name} <- ${message.sourceId.split(":")[1] ?? ""} ${message.type} ${message.id ?? cursorOf(message.data)}`);
      queueMicrotask(() => link.receive(message));
    };
    const link: TabLink = new TabLink((message) => {
      this.note(
        `${name} -> ${message.t} ${"sourceId" in message ? (message.sourceId.split(":")[1] ?? "") : ""} ${"cursor" in message ? message.cursor : ""}`,
      );
      queueMicrotask(() => this.holder.handle(sink, message));
    });
    link.hello();
    return link;
  }

  /** Kills the shared socket as a network fault would; false when there is none to kill. */
  drop(): boolean {
    const socket = this.current;
    if (!socket || socket.isEnded) return false;
    this.drops++;
    this.note(`drop socket ${this.sockets}`);
    socket.drop();
    return true;
  }

  /** Kills the next shared socket the moment its response headers arrive (before `connected`). */
  dropOnNextOpen(): void {
    this.dropAtOpen = true;
  }

  note(entry: string): void {
    this.trace.push(`${Math.round(performance.now() - this.started)} ${entry}`);
  }

  private traced<T>(what: string, call: Promise<T>): Promise<T> {
    this.note(what);
    return call.then(
      (value) => {
        this.note(`${what}: ${JSON.stringify(value)}`);
        return value;
      },
      (error: unknown) => {
        this.note(`${what}: failed ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      },
    );
  }

  close(): void {
    this.holder.close();
    this.current?.close();
  }

  private open(url: string, headers: Record<string, string>): NodeEventSource {
    const n = this.sockets + 1;
    const socket = new NodeEventSource(url, {
      headers,
      onFrame: (frame) => this.note(`socket ${n} ${frame.event} ${frame.id ?? cursorOf(frame.data)}`),
    });
    socket.addEventListener("open", () => {
      if (!this.dropAtOpen) return;
      this.dropAtOpen = false;
      this.drop();
    });
    this.current = socket;
    this.sockets++;
    return socket;
  }
}

/** A control frame's cursor (ready, reset) or connection id, for the trace. */
function cursorOf(data: string | undefined): string {
  if (data === undefined) return "";
  const found = /"(cursor|connectionId|code|reason)":"([^"]*)"/.exec(data);
  return found ? `${found[1]}=${found[2]}` : "";
}
