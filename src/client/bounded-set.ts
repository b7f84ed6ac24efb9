/**
 * A set that forgets its oldest entries past a capacity, so de-duplication memory stays bounded on
 * a tab left open for days. Duplicates only arrive close to the original (replay overlap, retried
 * steps), so remembering the most recent entries is enough.
 */
export class BoundedSet<T> {
  private readonly items = new Set<T>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
  }

  has(value: T): boolean {
    return this.items.has(value);
  }

  add(value: T): void {
    if (this.items.has(value)) return;
    this.items.add(value);
    if (this.items.size > this.capacity) {
      // Sets iterate in insertion order: the first value is the oldest.
      const oldest = this.items.values().next();
      if (!oldest.done) this.items.delete(oldest.value);
    }
  }

  get size(): number {
    return this.items.size;
  }
}
