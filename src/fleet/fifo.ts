/**
 * A queue over a plain array with a moving head (Array#shift copies the rest every time). Items keep
 * an absolute index (`start` … `end - 1`) that stays valid while the head moves, so a reader (the
 * replay) can hold a cursor across awaits while new items arrive and old ones leave.
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  /** Absolute index of items[0]. */
  private base = 0;

  push(x: T): void {
    this.items.push(x);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Absolute index of the first item. */
  get start(): number {
    return this.base + this.head;
  }

  /** Absolute index one past the last item. */
  get end(): number {
    return this.base + this.items.length;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  /** The item at absolute index `i` (start ≤ i < end). */
  at(i: number): T | undefined {
    return this.items[i - this.base];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head]!;
    this.head++;
    // Compact once the dead prefix is the larger part: amortised O(1) per item.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    return x;
  }
}
