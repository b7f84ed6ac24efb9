/** Pending `waitUntilReady()` calls: each settles once, on the next ready, a terminal error or its own timeout. */
export class ReadyWaiters<T> {
  private readonly pending = new Set<{
    resolve: (value: T) => void;
    reject: (error: Error) => void;
    readyTimer: ReturnType<typeof setTimeout>;
  }>();

  wait(timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        readyTimer: setTimeout(() => {
          this.pending.delete(waiter);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.pending.add(waiter);
    });
  }

  resolveAll(value: T): void {
    for (const w of this.drain()) w.resolve(value);
  }

  rejectAll(error: Error): void {
    for (const w of this.drain()) w.reject(error);
  }

  private drain() {
    const all = [...this.pending];
    this.pending.clear();
    for (const w of all) clearTimeout(w.readyTimer);
    return all;
  }
}
