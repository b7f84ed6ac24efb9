/** One concurrency constraint a run must hold a slot of: an evaluated key and its limit. */
export interface Slot {
  key: string;
  limit: number;
}

interface Waiter {
  slots: Slot[];
  grant: (release: () => void) => void;
}

export interface Acquisition {
  granted: Promise<() => void>;
  /** True when the slots were taken: the run waits behind others. */
  queued: boolean;
  /** Leave the queue (a cancelled run); no-op once granted. */
  cancel(): void;
}

/**
 * Counting slots per concurrency key with one FIFO queue: a waiter never overtakes an earlier
 * waiter on any key they share, and a run needing two keys takes both at once (no deadlock).
 */
export class ConcurrencyGate {
  private readonly inUse = new Map<string, number>();
  private waiters: Waiter[] = [];

  acquire(slots: Slot[]): Acquisition {
    let waiter: Waiter | undefined;
    const granted = new Promise<() => void>((resolve) => {
      waiter = { slots, grant: resolve };
    });
    if (waiter) this.waiters.push(waiter);
    this.drain();
    return {
      granted,
      queued: waiter !== undefined && this.waiters.includes(waiter),
      cancel: () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.drain();
      },
    };
  }

  /** Slots held per key, for /health and tests. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.inUse);
  }

  private drain(): void {
    const blocked = new Set<string>();
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      const free = waiter.slots.every((s) => !blocked.has(s.key) && (this.inUse.get(s.key) ?? 0) < s.limit);
      if (!free) {
        for (const s of waiter.slots) blocked.add(s.key);
        still.push(waiter);
        continue;
      }
      for (const s of waiter.slots) this.inUse.set(s.key, (this.inUse.get(s.key) ?? 0) + 1);
      waiter.grant(this.releaser(waiter.slots));
    }
    this.waiters = still;
  }

  private releaser(slots: Slot[]): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const s of slots) {
        const left = (this.inUse.get(s.key) ?? 1) - 1;
        if (left <= 0) this.inUse.delete(s.key);
        else this.inUse.set(s.key, left);
      }
      this.drain();
    };
  }
}
