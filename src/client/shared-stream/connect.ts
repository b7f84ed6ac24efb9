import { z } from "zod";
import { browserEventSource, type EventSourceLike } from "../event-source";
import { trpcSubscriptionCalls } from "./calls";
import { StreamHolder } from "./holder";
import { holderMessageSchema, tabMessageSchema, type HolderMessage, type TabMessage, type TabSink } from "./messages";
import { TabLink } from "./tab-link";
import { hasWebLocks, holdTabLock, watchTab } from "./tab-lock";

/**
 * Who holds this browser's one stream for this tab:
 * - `shared-worker`: a SharedWorker, shared by every tab of the origin (never throttled as a
 *   background tab is);
 * - `leader-tab`: where SharedWorker is missing (older mobile browsers), the tab holding a Web Lock
 *   leads and the others reach it over a BroadcastChannel; a hidden or frozen leader hands over to a
 *   visible tab;
 * - `this-tab`: neither exists: this tab holds its own stream.
 */
export type StreamHolderKind = "shared-worker" | "leader-tab" | "this-tab";

export interface SharedStream {
  readonly kind: StreamHolderKind;
  /** Opens a project's stream from after `cursor` (null: from now on), as a per-project EventSource would. */
  readonly open: (projectId: string, cursor: string | null) => EventSourceLike;
}

let current: SharedStream | null = null;

/** This page's shared stream, started on first use. */
export function sharedStream(): SharedStream {
  current ??= start();
  return current;
}

function start(): SharedStream {
  // Until a holder is chosen and this tab's lock is held, messages wait here.
  let pending: TabMessage[] | null = [];
  let post: (message: TabMessage) => void = (message) => pending?.push(message);
  const link = new TabLink((message) => (pending ? pending.push(message) : post(message)));
  const state: { kind: StreamHolderKind } = { kind: "this-tab" };
  const connectTo = (kind: StreamHolderKind, next: (message: TabMessage) => void) => {
    state.kind = kind;
    post = next;
  };

  if (typeof SharedWorker !== "undefined") {
    try {
      viaWorker(link, connectTo, () => viaLeaderOrTab(link, connectTo, true));
    } catch {
      viaLeaderOrTab(link, connectTo, false);
    }
  } else {
    viaLeaderOrTab(link, connectTo, false);
  }
  void holdTabLock(link.tabId).then(() => {
    const queued = pending ?? [];
    pending = null;
    link.hello();
    for (const message of queued) post(message);
  });
  watchLifecycle(link);
  return {
    get kind() {
      return state.kind;
    },
    open: link.open,
  };
}

type ConnectTo = (kind: StreamHolderKind, post: (message: TabMessage) => void) => void;

function viaWorker(link: TabLink, connectTo: ConnectTo, fallBack: () => void): void {
  const worker = new SharedWorker(new URL("./worker.ts", import.meta.url), { name: "genstream-stream" });
  const port = worker.port;
  port.addEventListener("message", (event: MessageEvent<unknown>) => link.receive(event.data));
  port.start();
  // The script could not load (blocked, offline on first visit): hold the stream without it.
  worker.addEventListener("error", () => {
    port.close();
    fallBack();
  });
  connectTo("shared-worker", (message) => port.postMessage(message));
}

function viaLeaderOrTab(link: TabLink, connectTo: ConnectTo, switching: boolean): void {
  if (hasWebLocks() && typeof BroadcastChannel !== "undefined") viaLeader(link, connectTo);
  else inThisTab(link, connectTo);
  if (switching) link.rejoin();
}

/** A holder in this tab; messages both ways go through a microtask, as across a port. */
function localHolder(link: TabLink): { holder: StreamHolder; sink: TabSink } {
  const holder = new StreamHolder({ calls: trpcSubscriptionCalls(), createEventSource: browserEventSource });
  const sink: TabSink = (message) => queueMicrotask(() => link.receive(message));
  return { holder, sink };
}

function inThisTab(link: TabLink, connectTo: ConnectTo): void {
  const { holder, sink } = localHolder(link);
  connectTo("this-tab", (message) => queueMicrotask(() => holder.handle(sink, message)));
}

const LEADER_LOCK = "genstream:stream-leader";
const CHANNEL = "genstream:stream";

const envelopeSchema = z.discriminatedUnion("k", [
  z.object({ k: z.literal("to-leader"), from: z.string().min(1).max(64), message: tabMessageSchema }),
  z.object({ k: z.literal("to-tab"), to: z.string().min(1).max(64), message: holderMessageSchema }),
  z.object({ k: z.literal("leader"), tabId: z.string().min(1).max(64), visible: z.boolean() }),
  z.object({ k: z.literal("who-leads") }),
]);
type Envelope = z.infer<typeof envelopeSchema>;

/**
 * Leader election over Web Locks: every tab queues for one lock; the holder of it runs the
 * StreamHolder and serves the others over a BroadcastChannel. A visible tab takes the lock from a
 * hidden leader (`steal`), since a background tab's timers are throttled; a freezing leader lets go.
 * When the leader changes, every tab's sources are detached and reopen from their own last ids.
 */
function viaLeader(link: TabLink, connectTo: ConnectTo): void {
  const channel = new BroadcastChannel(CHANNEL);
  const send = (envelope: Envelope) => channel.postMessage(envelope);
  const visible = () => typeof document === "undefined" || document.visibilityState === "visible";
  let leading: { holder: StreamHolder; sink: TabSink; stepDown: () => void } | null = null;
  let leader: { tabId: string; visible: boolean } | null = null;
  let queued: AbortController | null = null;
  let stealing = false;
  const watched = new Set<string>();

  const sinkFor = (tabId: string): TabSink =>
    tabId === link.tabId && leading ? leading.sink : (message: HolderMessage) => send({ k: "to-tab", to: tabId, message });
  const announce = () => send({ k: "leader", tabId: link.tabId, visible: visible() });

  connectTo("leader-tab", (message) => {
    if (leading) {
      const { holder, sink } = leading;
      queueMicrotask(() => holder.handle(sink, message));
    } else send({ k: "to-leader", from: link.tabId, message });
  });

  const lead = (): Promise<void> => {
    stealing = false;
    queued = null;
    const { holder, sink } = localHolder(link);
    return new Promise<void>((release) => {
      leading = { holder, sink, stepDown: release };
      leader = { tabId: link.tabId, visible: visible() };
      announce();
      link.rejoin();
    });
  };
  const stoppedLeading = () => {
    if (!leading) return;
    leading.holder.close();
    leading = null;
    if (leader?.tabId === link.tabId) leader = null;
    watched.clear();
    // Our own sources were on the holder just closed: they reopen on the next leader.
    link.rejoin();
    queue();
  };
  const queue = () => {
    if (queued || leading) return;
    const controller = new AbortController();
    queued = controller;
    navigator.locks.request(LEADER_LOCK, { signal: controller.signal }, lead).then(stoppedLeading, stoppedLeading);
  };
  const takeOver = () => {
    if (leading || stealing || !visible() || leader === null || leader.visible) return;
    stealing = true;
    queued?.abort();
    queued = null;
    navigator.locks.request(LEADER_LOCK, { steal: true }, lead).then(stoppedLeading, stoppedLeading);
  };

  channel.addEventListener("message", (event: MessageEvent<unknown>) => {
    const parsed = envelopeSchema.safeParse(event.data);
    if (!parsed.success) return;
    const envelope = parsed.data;
    switch (envelope.k) {
      case "to-tab":
        if (envelope.to === link.tabId) link.receive(envelope.message);
        return;
      case "to-leader": {
        if (!leading) return;
        const { message, from } = envelope;
        if (message.t === "hello" && !watched.has(from)) {
          watched.add(from);
          const holder = leading.holder;
          watchTab(from, () => {
            watched.delete(from);
            holder.removeTab(from);
          });
        }
        leading.holder.handle(sinkFor(from), message);
        return;
      }
      case "leader": {
        const changed = leader?.tabId !== envelope.tabId;
        leader = { tabId: envelope.tabId, visible: envelope.visible };
        if (changed && !leading) link.rejoin();
        takeOver();
        return;
      }
      case "who-leads":
        if (leading) announce();
        return;
    }
  });
  if (typeof document !== "undefined") {
    document.addEventListener("visibilitychange", () => {
      if (leading) announce();
      else takeOver();
    });
    // A frozen page runs no more tasks: close the connection now and say so as a hidden leader would,
    // so a visible tab takes the lock (a frozen page may never get to release it), then let go.
    document.addEventListener("freeze", () => {
      if (!leading) return;
      leading.holder.close();
      send({ k: "leader", tabId: link.tabId, visible: false });
      leading.stepDown();
    });
    document.addEventListener("resume", () => queue());
  }
  queue();
  send({ k: "who-leads" });
}

function watchLifecycle(link: TabLink): void {
  if (typeof window === "undefined") return;
  const rejoin = () => link.rejoin();
  window.addEventListener("pagehide", () => link.bye());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) rejoin();
  });
  document.addEventListener("freeze", () => link.bye());
  document.addEventListener("resume", rejoin);
}
