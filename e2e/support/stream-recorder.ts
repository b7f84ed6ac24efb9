import type { BrowserContext, Page } from "@playwright/test";
import { STREAM_OBSERVER_KEY, type ObservedFrame } from "../../src/client/stream-observer";

/** One progress frame a tab's stream client received, as its observer hook reported it. */
export interface TabFrame extends ObservedFrame {
  projectId: string;
}

const RECORD = "__genstreamTabFrames";

/**
 * Installs the stream client's observer hook (src/client/stream-observer.ts) in every page of the
 * context, before any page script runs, and records each progress frame a tab received and whether
 * it applied it, in order. The page itself carries no such record; the recording restarts with
 * every document (a reload is a new tab state, as the client's own is).
 */
export async function recordTabFrames(target: BrowserContext | Page): Promise<void> {
  const key = STREAM_OBSERVER_KEY.description;
  if (key === undefined) throw new Error("the stream observer key has no description");
  await target.addInitScript(
    ({ key, record }: { key: string; record: string }) => {
      const frames: unknown[] = [];
      Object.defineProperty(window, record, { value: frames });
      Object.defineProperty(window, Symbol.for(key), {
        value: (projectId: string, frame: object) => frames.push({ projectId, ...frame }),
      });
    },
    { key, record: RECORD },
  );
}

/** Every progress frame this page's stream clients received so far (recordTabFrames must be installed). */
export async function tabFrames(page: Page): Promise<TabFrame[]> {
  const frames = await page.evaluate((record) => {
    const recorded: unknown = Reflect.get(window, record);
    return Array.isArray(recorded) ? (recorded.slice() as TabFrame[]) : null;
  }, RECORD);
  if (frames === null) throw new Error("no stream recorder in this page: install recordTabFrames on its context first");
  return frames;
}

/** The ids of the events this page applied, in order (duplicates it dropped are not applied). */
export async function appliedIds(page: Page): Promise<string[]> {
  return (await tabFrames(page)).filter((f) => f.applied).map((f) => f.id);
}
