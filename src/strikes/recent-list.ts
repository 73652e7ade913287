import { inRecentWindow } from './recent-window.js';

/**
 * The timestamps addresses have in one xt_recent list, for every slot of the strike table at
 * once. The kernel keeps the last ip_pkt_list_tot (20) stamps; a `--hitcount N --seconds S` test
 * only needs the newest N, so each slot has a ring of exactly N. All rings live in one
 * Float64Array (slot × N) with their heads and fill counts beside it: a table of 262,144
 * addresses costs ~72 bytes a slot for the seed's 3 + 6 stamps instead of two objects and two
 * typed arrays per address (~600 bytes).
 */
export class StampRings {
  private ring: Float64Array;
  private head: Uint16Array;
  /** Stamps stored per slot, up to the ring size. */
  private count: Uint16Array;

  constructor(
    readonly size: number,
    slots: number,
  ) {
    this.ring = new Float64Array(size * slots);
    this.head = new Uint16Array(slots);
    this.count = new Uint16Array(slots);
  }

  /** Makes room for `slots` slots (keeps the existing ones). */
  grow(slots: number): void {
    const r = new Float64Array(this.size * slots);
    r.set(this.ring);
    this.ring = r;
    const h = new Uint16Array(slots);
    h.set(this.head);
    this.head = h;
    const c = new Uint16Array(slots);
    c.set(this.count);
    this.count = c;
  }

  /** Empties a slot (a new address takes it). */
  clear(slot: number): void {
    this.head[slot] = 0;
    this.count[slot] = 0;
  }

  /** `--set` / `--update`: records a hit at `ts`. */
  add(slot: number, ts: number): void {
    const n = this.size;
    const h = this.head[slot]!;
    this.ring[slot * n + h] = ts;
    this.head[slot] = h + 1 === n ? 0 : h + 1;
    const c = this.count[slot]!;
    if (c < n) this.count[slot] = c + 1;
  }

  /** Stamps stored in the slot. */
  stored(slot: number): number {
    return this.count[slot]!;
  }

  /**
   * Hits inside the window ending at `now` (`inRecentWindow`: a stamp exactly `seconds` old still
   * counts), at most the ring size.
   */
  hitsWithin(slot: number, now: number, seconds: number): number {
    const base = slot * this.size;
    const c = this.count[slot]!;
    let hits = 0;
    for (let i = 0; i < c; i++) if (inRecentWindow(this.ring[base + i]!, now, seconds)) hits++;
    return hits;
  }

  /** The stamps, oldest first (for the state file). */
  toArray(slot: number): number[] {
    const out: number[] = [];
    const n = this.size;
    const c = this.count[slot]!;
    const first = c < n ? 0 : this.head[slot]!;
    for (let i = 0; i < c; i++) out.push(this.ring[slot * n + ((first + i) % n)]!);
    return out;
  }

  /** Newest stamp, or -Infinity. */
  newest(slot: number): number {
    if (this.count[slot] === 0) return -Infinity;
    const n = this.size;
    return this.ring[slot * n + ((this.head[slot]! - 1 + n) % n)]!;
  }

  /**
   * Last instant at which `hitsWithin(slot, t, seconds) >= ring size` still holds (inclusive): the
   * oldest of the newest N stamps plus the window. -Infinity while fewer than N stamps exist.
   */
  fullUntil(slot: number, seconds: number): number {
    if (this.count[slot]! < this.size) return -Infinity;
    // With a full ring, `head` points at the oldest stamp.
    return this.ring[slot * this.size + this.head[slot]!]! + seconds;
  }
}
