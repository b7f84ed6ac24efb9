import { newId } from "../../lib/ids";
import type { EventSourceLike, MessageEventLike } from "../event-source";
import { holderMessageSchema, type TabMessage } from "./messages";

/** How a tab reaches its holder: a SharedWorker's port, the leader over BroadcastChannel, or a holder in the tab. */
export type HolderPost = (message: TabMessage) => void;

/**
 * A project stream opened through the holder: the EventSource shape the stream client already
 * drives, fed by the holder's frames for this source.
 */
class HolderSource implements EventSourceLike {
  private readonly listeners = new Map<string, Set<(event: MessageEventLike) => void>>();
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.onClose();
  }

  dispatch(type: string, event: MessageEventLike): void {
    if (this.closed) return;
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event);
  }
}

/**
 * The tab's end of the shared stream: one per page, shared by every stream client of the page.
 * `open` gives a client its project's frames; `detachAll` tells every open source it lost its
 * connection (the holder changed or went away), and each client resumes from its own last id.
 */
export class TabLink {
  readonly tabId: string;
  private readonly sources = new Map<string, HolderSource>();
  private nextSource = 0;

  constructor(
    private readonly post: HolderPost,
    tabId: string = newId(),
  ) {
    this.tabId = tabId;
  }

  /** The holder changed (a new leader, a fallback) or may have forgotten this tab: sources reopen on it from their own last ids. */
  rejoin(): void {
    this.detachAll();
    this.hello();
  }

  hello(): void {
    this.post({ t: "hello", tabId: this.tabId });
  }

  /** The page is going away or freezing: the holder drops this tab's sources at once. */
  bye(): void {
    this.post({ t: "bye", tabId: this.tabId });
  }

  open = (projectId: string, cursor: string | null): EventSourceLike => {
    const sourceId = `${this.tabId}:${++this.nextSource}`;
    const source = new HolderSource(() => {
      if (this.sources.get(sourceId) !== source) return;
      this.sources.delete(sourceId);
      this.post({ t: "close", tabId: this.tabId, sourceId });
    });
    this.sources.set(sourceId, source);
    this.post({ t: "open", tabId: this.tabId, sourceId, projectId, cursor });
    return source;
  };

  /** A message from the holder. Anything that is not one (another app's message on the channel) is ignored. */
  receive(message: unknown): void {
    const parsed = holderMessageSchema.safeParse(message);
    if (!parsed.success) return;
    const { sourceId, type, data, id } = parsed.data;
    this.sources.get(sourceId)?.dispatch(type, { data, lastEventId: id });
  }

  /** Every open source sees a transport failure, as its own EventSource would on a drop. */
  detachAll(): void {
    const open = [...this.sources.values()];
    this.sources.clear();
    for (const source of open) source.dispatch("error", {});
  }

  get openSources(): number {
    return this.sources.size;
  }
}
