import type { Page } from "@playwright/test";
import { CONTROL_EVENTS, PROGRESS_EVENT_TYPES } from "../../src/streaming/protocol";

/** One thing an EventSource of the page saw: a frame (with its SSE id), or the open/transport error. */
export interface RecordedFrame {
  /** Which EventSource of the page (1, 2, …): each reconnect opens a new one. */
  source: number;
  type: string;
  id: string;
  data: string | null;
}

/**
 * Wraps the page's EventSource (before any page script runs) so every frame each stream delivered
 * to the page is recorded, in order. It observes; the app's client still gets every event as before.
 */
export async function recordEventSources(page: Page): Promise<() => Promise<RecordedFrame[]>> {
  const types = ["open", ...Object.values(CONTROL_EVENTS), ...PROGRESS_EVENT_TYPES];
  await page.addInitScript((eventTypes: string[]) => {
    const w = window as unknown as { __esFrames: unknown[]; EventSource: typeof EventSource };
    w.__esFrames = [];
    const Native = w.EventSource;
    let sources = 0;
    class RecordingEventSource extends Native {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        const source = ++sources;
        for (const type of eventTypes) {
          this.addEventListener(type, (event) => {
            const message = event;
            w.__esFrames.push({
              source,
              type,
              id: message.lastEventId ?? "",
              data: typeof message.data === "string" ? message.data : null,
            });
          });
        }
      }
    }
    w.EventSource = RecordingEventSource;
  }, types);
  return () => page.evaluate(() => (window as unknown as { __esFrames: RecordedFrame[] }).__esFrames.slice());
}

/** Progress frames (not control frames) the page's streams delivered. */
export function progressFrames(frames: readonly RecordedFrame[]): RecordedFrame[] {
  const progress = new Set<string>(PROGRESS_EVENT_TYPES);
  return frames.filter((f) => progress.has(f.type));
}

/** Keys of the progress frames delivered more than once (a retried step's duplicate would show here). */
export function duplicateKeys(frames: readonly RecordedFrame[]): string[] {
  const seen = new Map<string, number>();
  for (const f of progressFrames(frames)) {
    const key = f.data === null ? f.id : (JSON.parse(f.data) as { key: string }).key;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}
