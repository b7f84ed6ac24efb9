import type { Page } from "@playwright/test";

/**
 * Records every value the connection indicator's data-status takes, via a MutationObserver in the
 * page, so a transient state (reconnecting for a few ms) is observed rather than raced.
 */
export async function recordStatuses(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { __statuses: string[] };
    w.__statuses = [];
    const el = document.querySelector('[data-testid="connection-status"]');
    if (!el) throw new Error("no connection indicator");
    w.__statuses.push(el.getAttribute("data-status") ?? "");
    new MutationObserver(() => w.__statuses.push(el.getAttribute("data-status") ?? "")).observe(el, {
      attributes: true,
      attributeFilter: ["data-status"],
    });
  });
  return () => page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses.slice());
}
