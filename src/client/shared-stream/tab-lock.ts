/**
 * Each tab holds a Web Lock named after it for as long as it lives; whoever holds the stream (the
 * SharedWorker, the leader tab) asks for the same lock, which it gets only once the tab is gone
 * (closed, crashed, navigated away): that is how a tab that left without a word is noticed.
 */
const tabLockName = (tabId: string) => `genstream:tab:${tabId}`;

/** Whether this context has Web Locks. */
export function hasWebLocks(): boolean {
  // Optional chaining: a browser without Web Locks has no `navigator.locks` at all.
  return typeof navigator !== "undefined" && typeof (navigator.locks as LockManager | undefined)?.request === "function";
}

/** Holds this tab's lock until the page goes away; resolves once it is held. */
export function holdTabLock(tabId: string): Promise<void> {
  if (!hasWebLocks()) return Promise.resolve();
  return new Promise((held) => {
    void navigator.locks.request(tabLockName(tabId), () => {
      held();
      return new Promise<void>(() => {});
    });
  });
}

/** Calls `gone` once the tab's lock is free. Nothing happens where Web Locks are missing (the tab's `bye` is all there is). */
export function watchTab(tabId: string, gone: () => void): void {
  if (!hasWebLocks()) return;
  void navigator.locks.request(tabLockName(tabId), () => gone());
}
