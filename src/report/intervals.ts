import type { Intervals } from './types.js';

/**
 * Coverage as time ranges. A source covers time from its first to its last record, except across a
 * silence longer than `gap` seconds: during such a silence nobody can tell whether it was running.
 */
export class CoverageBuilder {
  private readonly out: Intervals = [];
  private a = NaN;
  private b = NaN;

  constructor(private readonly gap: number) {}

  /** Times mostly in order; a time earlier than the current range's end just lies inside it. */
  add(ts: number): void {
    if (!Number.isFinite(ts)) return;
    if (Number.isNaN(this.a)) {
      this.a = this.b = ts;
      return;
    }
    if (ts > this.b + this.gap) {
      this.out.push([this.a, this.b]);
      this.a = this.b = ts;
    } else if (ts > this.b) this.b = ts;
    else if (ts < this.a) this.a = ts;
  }

  result(): Intervals {
    const r = this.out.slice();
    if (!Number.isNaN(this.a)) r.push([this.a, this.b]);
    return normalize(r);
  }
}

/** Sorts and merges overlapping or touching ranges. */
export function normalize(iv: Intervals): Intervals {
  const s = iv.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && b >= a).sort((x, y) => x[0] - y[0]);
  const out: Intervals = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

export function union(...sets: Intervals[]): Intervals {
  return unionAll(sets);
}

/** `union` of a list of sets (called with the list, not spread: there may be many). */
export function unionAll(sets: readonly Intervals[]): Intervals {
  const all: Intervals = [];
  for (const s of sets) for (const [a, b] of s) all.push([a, b]);
  return normalize(all);
}

/** The parts of `a` not covered by `b`. */
export function subtract(a: Intervals, b: Intervals): Intervals {
  const out: Intervals = [];
  const bb = normalize(b);
  for (const [s0, e0] of normalize(a)) {
    let s = s0;
    for (const [bs, be] of bb) {
      if (be < s) continue;
      if (bs > e0) break;
      if (bs > s) out.push([s, Math.min(bs, e0)]);
      s = Math.max(s, be);
      if (s >= e0) break;
    }
    if (s < e0) out.push([s, e0]);
  }
  return out;
}

export function contains(iv: Intervals, ts: number): boolean {
  let lo = 0;
  let hi = iv.length - 1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    const [a, b] = iv[m]!;
    if (ts < a) hi = m - 1;
    else if (ts > b) lo = m + 1;
    else return true;
  }
  return false;
}

export function span(iv: Intervals): [number, number] | null {
  return iv.length === 0 ? null : [iv[0]![0], iv[iv.length - 1]![1]];
}

export function totalLength(iv: Intervals): number {
  return iv.reduce((s, [a, b]) => s + (b - a), 0);
}
