/**
 * Column storage for the report's large tables (issue 15: `report` in bounded memory): a column is
 * a list of fixed-size typed-array chunks, so it grows without copying (a doubling array holds
 * 1.5× its data while it grows, and its old copy until the next GC) and lives outside the JS heap
 * (the V8 heap grows to a multiple of what is live on it; typed arrays' buffers do not count).
 * Each store keeps one chunk list per column, indexed `chunks[i >>> CHUNK_BITS][i & CHUNK_MASK]`,
 * so every access site sees one typed-array kind.
 */

export const CHUNK_BITS = 16;
export const CHUNK = 1 << CHUNK_BITS;
export const CHUNK_MASK = CHUNK - 1;

type Chunked = Float64Array | Int32Array | Uint16Array | Uint8Array;

/**
 * The rows `rows` (indices into `chunks`, in that order) as a new chunk list of the same kind:
 * what a store's filter, sort and release make of each of its columns.
 */
export function pickRows<A extends Chunked>(chunks: readonly A[], rows: ArrayLike<number>, make: (n: number) => A): A[] {
  const out: A[] = [];
  for (let k = 0; k < rows.length; k++) {
    const j = k & CHUNK_MASK;
    if (j === 0) out.push(make(CHUNK));
    const i = rows[k]!;
    out[k >>> CHUNK_BITS]![j] = chunks[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  return out;
}

/** Strings to small numbers and back (-1: null); the same string is kept once. */
export class StringTable {
  readonly ids = new Map<string, number>();
  readonly list: string[] = [];
  id(s: string | null): number {
    if (s === null) return -1;
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.ids.set(s, i);
    }
    return i;
  }
  str(i: number): string | null {
    return i < 0 ? null : this.list[i]!;
  }
}

/**
 * Row indices grouped by a small integer key (`keyOf(i)` in [0, keys)), each group in row order:
 * group `g` is `order[start[g]] … order[start[g + 1] - 1]` (a counting sort: two passes, no objects).
 */
export function groupRows(size: number, keys: number, keyOf: (i: number) => number): { start: Uint32Array; order: Uint32Array } {
  const start = new Uint32Array(keys + 1);
  for (let i = 0; i < size; i++) {
    const g = keyOf(i) + 1;
    start[g] = start[g]! + 1;
  }
  for (let g = 0; g < keys; g++) start[g + 1] = start[g + 1]! + start[g]!;
  const fill = start.slice(0, keys);
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    const g = keyOf(i);
    order[fill[g]!] = i;
    fill[g] = fill[g]! + 1;
  }
  return { start, order };
}
