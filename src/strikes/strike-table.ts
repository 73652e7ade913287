import { StampRings } from './recent-list.js';

export interface BlockInterval {
  key: string;
  /** The client address whose event started the block. */
  client: string;
  rule: 'auth' | 'conn';
  from: number;
  /** Last instant the block stands (inclusive, as xt_recent's window test). */
  until: number;
  /** New connections refused while the block stood. */
  rejects: number;
  /**
   * Repeat offenders: earlier blocks of the key within the lookback when this one began (0: a first
   * block; its `until` is then xt_recent's own). Missing in an older state file: 0.
   */
  level: number;
}

const FIRST_SLOTS = 1024;

/**
 * The addresses the strike rules track, one numbered slot each: the two recent lists' rings,
 * last-seen time and standing block live in arrays indexed by slot (no object per address; a
 * block object only while one stands), and a Map finds an address's slot. Freed slots are reused.
 * The arrays grow by doubling up to `maxSlots`, so a short replay does not pay for the cap.
 */
export class StrikeTable {
  private readonly slotOf = new Map<string, number>();
  private keys: string[] = [];
  lastSeen: Float64Array;
  readonly blockOf: (BlockInterval | null)[] = [];
  readonly auth: StampRings;
  readonly conn: StampRings;
  private free: number[] = [];
  private capacity: number;

  constructor(
    authSize: number,
    connSize: number,
    private readonly maxSlots: number,
  ) {
    this.capacity = Math.min(FIRST_SLOTS, maxSlots);
    this.lastSeen = new Float64Array(this.capacity);
    this.auth = new StampRings(authSize, this.capacity);
    this.conn = new StampRings(connSize, this.capacity);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** The slot of `key`, or -1. */
  find(key: string): number {
    return this.slotOf.get(key) ?? -1;
  }

  /** A fresh, empty slot for `key` (the caller makes room first when the table is full). */
  add(key: string): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.keys.length;
      if (slot >= this.capacity) this.grow();
    }
    this.slotOf.set(key, slot);
    this.keys[slot] = key;
    this.lastSeen[slot] = 0;
    this.blockOf[slot] = null;
    this.auth.clear(slot);
    this.conn.clear(slot);
    return slot;
  }

  keyOf(slot: number): string {
    return this.keys[slot]!;
  }

  /** Forgets the address in `slot`; returns false when it was not there. */
  delete(slot: number): boolean {
    if (!this.slotOf.delete(this.keys[slot]!)) return false;
    this.keys[slot] = '';
    this.blockOf[slot] = null;
    this.free.push(slot);
    return true;
  }

  /** Slots in use, oldest address first (insertion order: the tie-break of LRU eviction). */
  slots(): number[] {
    return [...this.slotOf.values()];
  }

  private grow(): void {
    this.capacity = Math.min(this.capacity * 2, Math.max(this.maxSlots, this.capacity + 1));
    const l = new Float64Array(this.capacity);
    l.set(this.lastSeen);
    this.lastSeen = l;
    this.auth.grow(this.capacity);
    this.conn.grow(this.capacity);
  }
}
