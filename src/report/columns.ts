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

type Chunked = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * Bytes of one slab: glibc's largest mmap threshold on 64 bits (a block at least this big is always
 * its own mapping, whatever the threshold has grown to).
 */
export const SLAB_BYTES = 32 << 20;

/**
 * Where a store's chunks come from: carved one after another out of 32 MiB slabs, not allocated one
 * by one. A chunk alone (64–512 KB) lands in malloc's heap among the log reader's 1 MB buffers,
 * which have raised glibc's mmap threshold above it, and freed it is not given back: after the
 * join had freed ~100 MB of rows the heap stayed at its size, and the document's objects were
 * added on top of it (native-notes/report-memory.md). A slab is its own mapping, returned to the
 * system when the store's chunks are all dropped; its pages not yet written take no memory. A
 * store keeps one Slabs and takes a new one when it drops or rebuilds its columns.
 */
export class Slabs {
  private slab: ArrayBuffer | null = null;
  private used = 0;

  private take(bytes: number): [ArrayBuffer, number] {
    if (this.slab === null || this.used + bytes > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.used = 0;
    }
    const at = this.used;
    this.used += bytes;
    return [this.slab, at];
  }

  f64(): Float64Array {
    const [b, at] = this.take(CHUNK * 8);
    return new Float64Array(b, at, CHUNK);
  }
  i32(): Int32Array {
    const [b, at] = this.take(CHUNK * 4);
    return new Int32Array(b, at, CHUNK);
  }
  u32(): Uint32Array {
    const [b, at] = this.take(CHUNK * 4);
    return new Uint32Array(b, at, CHUNK);
  }
  u16(): Uint16Array {
    const [b, at] = this.take(CHUNK * 2);
    return new Uint16Array(b, at, CHUNK);
  }
  u8(): Uint8Array {
    const [b, at] = this.take(CHUNK);
    return new Uint8Array(b, at, CHUNK);
  }
}

/**
 * The rows `rows` (indices into `chunks`, in that order) as a new chunk list of the same kind:
 * what a store's filter, sort and release make of each of its columns.
 */
export function pickRows<A extends Chunked>(chunks: readonly A[], rows: ArrayLike<number>, make: () => A): A[] {
  const out: A[] = [];
  for (let k = 0; k < rows.length; k++) {
    const j = k & CHUNK_MASK;
    if (j === 0) out.push(make());
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
