import type { BrowserContext, Page } from "@playwright/test";
import type { StreamHolderKind } from "../../src/client/shared-stream/connect";

/**
 * Chooses who holds the browser's one stream (src/client/shared-stream/connect.ts) by taking away,
 * before any page script runs, what an older browser lacks: SharedWorker for `leader-tab`, and
 * also Web Locks and BroadcastChannel for `this-tab`.
 *
 * `this-tab` is also how a test reaches the stream with page-level tools (page.route, the
 * EventSource recorder): a SharedWorker's requests are not the page's, so Playwright does not see them.
 */
export async function forceHolder(target: BrowserContext | Page, kind: StreamHolderKind): Promise<void> {
  if (kind === "shared-worker") return;
  await target.addInitScript((alone: boolean) => {
    Reflect.deleteProperty(window, "SharedWorker");
    if (alone) {
      Reflect.deleteProperty(window, "BroadcastChannel");
      Reflect.deleteProperty(Navigator.prototype, "locks");
    }
  }, kind === "this-tab");
}

/** The route pattern of the multiplexed stream, for page.route in a `this-tab` page. */
export const MUX_STREAM_ROUTE = "**/api/stream";
