/**
 * The last `size` fleet round trips (ms) in a ring, for quantiles in stats, metrics and the
 * benchmark: a fixed Float64Array, nothing allocated per hit.
 */
export class LatencyWindow {
  private readonly ring: Float64Array;
  private n = 0;
  private head = 0;

  constructor(size = 4096) {
    this.ring = new Float64Array(size);
  }

  add(ms: number): void {
    this.ring[this.head] = ms;
    this.head = (this.head + 1) % this.ring.length;
    if (this.n < this.ring.length) this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** The samples kept, oldest first. */
  samples(): number[] {
    const out: number[] = [];
    const first = this.n < this.ring.length ? 0 : this.head;
    for (let i = 0; i < this.n; i++) out.push(this.ring[(first + i) % this.ring.length]!);
    return out;
  }

  /** The q-quantile (0..1, nearest rank) of the samples kept; NaN when there are none. */
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const s = this.ring.slice(0, this.n).sort();
    return s[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]!;
  }
}
