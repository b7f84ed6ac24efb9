/**
 * A FIFO with O(1) amortised push and shift, backing the memory log's ring.
 * `Array.prototype.shift` is O(n); instead we advance a head index and compact
 * only when the dead prefix dominates, so each element is moved at most once.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, if any. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // release it to the GC now, not at compaction
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Items from position `from` (0 = oldest) to the newest. */
  sliceFrom(from: number): T[] {
    const out: T[] = [];
    for (let i = this.head + Math.max(0, from); i < this.items.length; i++) {
      const item = this.items[i];
      if (item !== undefined) out.push(item);
    }
    return out;
  }
}
