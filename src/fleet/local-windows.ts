import { StampRings } from '../strikes/recent-list.js';

/**
 * This host's own xt_recent window for one rule, kept for every hit whatever Redis does: when Redis
 * is away or slow the fleet module decides on it (a standalone smtpstrike's verdict, the engine's
 * RecentList semantic: the newest `hitcount` stamps, a stamp exactly `seconds` old still counts).
 * Bounded: past `maxKeys` the least recently hit key gives its slot up.
 */
export class LocalWindows {
  private readonly rings: StampRings;
  /** key → slot; Map order is recency order (a hit moves its key to the end). */
  private readonly slots = new Map<string, number>();
  private used = 0;
  private capacity: number;
  evicted = 0;

  constructor(
    readonly hitcount: number,
    readonly seconds: number,
    private readonly maxKeys: number,
  ) {
    this.capacity = Math.min(maxKeys, 1024);
    this.rings = new StampRings(hitcount, this.capacity);
  }

  /** Records a hit of `key` at `ts` (seconds) and returns the hits within the window ending at `ts`. */
  hit(key: string, ts: number): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.take();
      this.rings.clear(slot);
    } else {
      this.slots.delete(key);
    }
    this.slots.set(key, slot);
    this.rings.add(slot, ts);
    return this.rings.hitsWithin(slot, ts, this.seconds);
  }

  /** Hits of `key` within the window ending at `ts`, without recording one. */
  count(key: string, ts: number): number {
    const slot = this.slots.get(key);
    return slot === undefined ? 0 : this.rings.hitsWithin(slot, ts, this.seconds);
  }

  get size(): number {
    return this.slots.size;
  }

  private take(): number {
    if (this.slots.size >= this.maxKeys) {
      const [oldKey, oldSlot] = this.slots.entries().next().value as [string, number];
      this.slots.delete(oldKey);
      this.evicted++;
      return oldSlot;
    }
    const s = this.used++;
    if (s >= this.capacity) {
      this.capacity = Math.min(this.maxKeys, this.capacity * 2);
      this.rings.grow(this.capacity);
    }
    return s;
  }
}
