/**
 * The timestamps one address has in one xt_recent list. The kernel keeps the last
 * ip_pkt_list_tot (20) stamps; a `--hitcount N --seconds S` test only needs the newest N, so we
 * keep a ring of exactly N.
 */
export class RecentStamps {
  private readonly ring: Float64Array;
  private head = 0;
  /** Stamps stored, up to the ring size. */
  count = 0;

  constructor(size: number) {
    this.ring = new Float64Array(size);
  }

  /** `--set` / `--update`: records a hit at `ts`. */
  add(ts: number): void {
    this.ring[this.head] = ts;
    this.head = (this.head + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
  }

  /**
   * Hits at or after `now - seconds`, at most the ring size. xt_recent skips a stamp only when
   * `time_after(now - seconds, stamp)`, so a stamp exactly `seconds` old still counts.
   */
  hitsWithin(now: number, seconds: number): number {
    const since = now - seconds;
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.ring[i]! >= since) n++;
    return n;
  }

  /** The stamps, oldest first (for the state file). */
  toArray(): number[] {
    const out: number[] = [];
    const n = this.ring.length;
    const first = this.count < n ? 0 : this.head;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(first + i) % n]!);
    return out;
  }

  /** Newest stamp, or -Infinity. */
  newest(): number {
    if (this.count === 0) return -Infinity;
    return this.ring[(this.head - 1 + this.ring.length) % this.ring.length]!;
  }

  /**
   * Last instant at which `hitsWithin(t, seconds) >= ring size` still holds (inclusive): the oldest
   * of the newest N stamps plus the window. -Infinity while fewer than N stamps exist.
   */
  fullUntil(seconds: number): number {
    if (this.count < this.ring.length) return -Infinity;
    // With a full ring, `head` points at the oldest stamp.
    return this.ring[this.head]! + seconds;
  }
}
