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
  private current: NodeEventSource | null = null;
  private dropAtOpen = false;

  constructor(options: SharedBrowserOptions) {
    this.holder = new StreamHolder({
      calls: trpcSubscriptionCalls(`${options.callsURL}/api/trpc`, options.headers),
      createEventSource: (path) => this.open(`${options.streamURL}${path}`, options.headers),
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** A new tab of this browser. */
  tab(): TabLink {
    const sink = (message: HolderMessage) => queueMicrotask(() => link.receive(message));
    const link: TabLink = new TabLink((message) => queueMicrotask(() => this.holder.handle(sink, message)));
    link.hello();
    return link;
  }

  /** Kills the shared socket as a network fault would; false when there is none to kill. */
  drop(): boolean {
    const socket = this.current;
    if (!socket || socket.isEnded) return false;
    this.drops++;
    socket.drop();
    return true;
  }

  /** Kills the next shared socket the moment its response headers arrive (before `connected`). */
  dropOnNextOpen(): void {
    this.dropAtOpen = true;
  }

  close(): void {
    this.holder.close();
    this.current?.close();
  }

  private open(url: string, headers: Record<string, string>): NodeEventSource {
    const socket = new NodeEventSource(url, { headers });
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
