/// <reference lib="webworker" />
import "../../lib/zod-csp";
import { browserEventSource } from "../event-source";
import { trpcSubscriptionCalls } from "./calls";
import { StreamHolder } from "./holder";
import { tabMessageSchema, type HolderMessage } from "./messages";
import { watchTab } from "./tab-lock";

/**
 * The SharedWorker that holds the browser's one stream for every tab of the origin. Each tab
 * connects a port; a tab that goes away is noticed by its `bye` (pagehide, freeze) or, if it died
 * without one, by its tab lock becoming free (Web Locks, src/client/shared-stream/tab-lock.ts).
 */
declare const self: SharedWorkerGlobalScope;

const holder = new StreamHolder({ calls: trpcSubscriptionCalls(), createEventSource: browserEventSource });
const watched = new Set<string>();

self.addEventListener("connect", (event) => {
  const port = event.ports[0];
  if (!port) return;
  const sink = (message: HolderMessage) => port.postMessage(message);
  port.addEventListener("message", (e: MessageEvent<unknown>) => {
    const parsed = tabMessageSchema.safeParse(e.data);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.t === "hello" && !watched.has(message.tabId)) {
      watched.add(message.tabId);
      watchTab(message.tabId, () => {
        watched.delete(message.tabId);
        holder.removeTab(message.tabId);
      });
    }
    holder.handle(sink, message);
  });
  port.start();
});
