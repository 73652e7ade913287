import { packIp, unpackIp } from '../net/ip-pack.js';

const EMPTY = 0;

function grow<T extends Uint8Array | Uint32Array>(a: T, size: number, make: (n: number) => T): T {
  const b = make(size);
  b.set(a);
  return b;
}

/**
 * Client address → row number, rows in first-seen order, for millions of clients: the addresses
 * live packed in one typed array (16 bytes a row) and an open-addressing table of row numbers
 * (load ≤ ½) finds them, so a client costs ~25 bytes here instead of a string plus a Map entry.
 * A key that is not an IP address (nothing on the wire makes one) is kept in a small Map.
 */
export class AddressIndex {
  private keys = new Uint32Array(4 * 1024);
  private families = new Uint8Array(1024);
  private slots = new Int32Array(2048);
  private mask = 2047;
  private texts: Map<string, number> | null = null;
  private textOf: Map<number, string> | null = null;
  private readonly key = new Uint32Array(4);
  private family: 0 | 4 | 6 = 0;
  private text = '';
  private hash = 0;
  size = 0;

  /** Rows the per-row arrays of an owner must hold now (grows by doubling). */
  get capacity(): number {
    return this.families.length;
  }

  /** The row of `ip`, or -1. Remembers the parsed key for an `insert()` right after. */
  find(ip: string): number {
    const f = packIp(ip, this.key);
    this.family = f;
    if (f === 0) {
      this.text = ip;
      return this.texts?.get(ip) ?? -1;
    }
    const k = this.key;
    const h = mix(k[0]! ^ Math.imul(k[1]!, 0x9e3779b1) ^ Math.imul(k[2]!, 0x85ebca77) ^ Math.imul(k[3]!, 0xc2b2ae3d) ^ f);
    this.hash = h;
    const keys = this.keys;
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const r = this.slots[s]!;
      if (r === EMPTY) return -1;
      const row = r - 1;
      const o = 4 * row;
      if (keys[o] === k[0] && keys[o + 1] === k[1] && keys[o + 2] === k[2] && keys[o + 3] === k[3] && this.families[row] === f) return row;
    }
  }

  /** Adds the address of the last `find()` (which must have missed); returns its row. */
  insert(): number {
    const row = this.size++;
    if (row >= this.families.length) {
      const n = this.families.length * 2;
      this.keys = grow(this.keys, 4 * n, (x) => new Uint32Array(x));
      this.families = grow(this.families, n, (x) => new Uint8Array(x));
    }
    this.families[row] = this.family;
    if (this.family === 0) {
      (this.texts ??= new Map()).set(this.text, row);
      (this.textOf ??= new Map()).set(row, this.text);
      return row;
    }
    this.keys.set(this.key, 4 * row);
    if (2 * this.size > this.slots.length) this.rehash();
    else this.place(this.hash, row);
    return row;
  }

  /** The text form of a row's address (as the flow table wrote it). */
  ipOf(row: number): string {
    const f = this.families[row]!;
    if (f === 0) return this.textOf!.get(row)!;
    const o = 4 * row;
    return unpackIp(f as 4 | 6, this.keys[o]!, this.keys[o + 1]!, this.keys[o + 2]!, this.keys[o + 3]!);
  }

  /** Address order of two rows: IPv4 before IPv6 (each numerically), text keys last. */
  compareRows(a: number, b: number): number {
    const fa = this.families[a]!;
    const fb = this.families[b]!;
    if (fa !== fb) return (fa || 99) - (fb || 99);
    if (fa === 0) {
      const ta = this.textOf!.get(a)!;
      const tb = this.textOf!.get(b)!;
      return ta < tb ? -1 : ta > tb ? 1 : 0;
    }
    const k = this.keys;
    for (let w = 0; w < 4; w++) {
      const d = k[4 * a + w]! - k[4 * b + w]!;
      if (d !== 0) return d;
    }
    return 0;
  }

  private place(h: number, row: number): void {
    let s = h & this.mask;
    while (this.slots[s] !== EMPTY) s = (s + 1) & this.mask;
    this.slots[s] = row + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    const k = this.keys;
    for (let row = 0; row < this.size; row++) {
      const f = this.families[row]!;
      if (f === 0) continue;
      const o = 4 * row;
      this.place(mix(k[o]! ^ Math.imul(k[o + 1]!, 0x9e3779b1) ^ Math.imul(k[o + 2]!, 0x85ebca77) ^ Math.imul(k[o + 3]!, 0xc2b2ae3d) ^ f), row);
    }
  }
}

/** murmur3's 32-bit finaliser: every input bit moves every output bit, so slots spread evenly. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
