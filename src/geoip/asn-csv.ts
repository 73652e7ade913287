import { readFileSync } from 'node:fs';
import { parseIp } from '../net/ip-text.js';

/**
 * IP-range → AS number and organisation from a CSV in the `@ip-location-db/asn` layout, one range
 * a line, sorted by start: `start,end,asn,organisation` where start/end are addresses
 * (`1.0.0.0,1.0.0.255,...`, `2001::,2001::ffff:...,...`) or, for IPv4, numbers
 * (`asn-ipv4-num.csv`). The organisation may be quoted (`"Cloudflare, Inc."`).
 *
 * No table is built: the file is read once into memory (20 MB for the IPv4 list) and each lookup
 * is a binary search over line offsets, parsing ~20 start fields. Opening costs one pass over
 * the bytes to index the line starts (~10 ms per 100k lines).
 */

export interface AsnRecord {
  asn: number;
  org: string;
}

type Key = number | bigint;

export class AsnCsv {
  readonly family: 4 | 6;
  private readonly buf: Buffer;
  private readonly starts: Uint32Array;
  private readonly count: number;

  constructor(readonly file: string) {
    this.buf = readFileSync(file);
    const b = this.buf;
    // Line starts (a trailing newline does not start a line).
    let n = 0;
    let cap = Math.max(16, b.length >>> 5);
    let starts = new Uint32Array(cap);
    let pos = 0;
    while (pos < b.length) {
      if (n === cap) {
        const next = new Uint32Array((cap *= 2));
        next.set(starts);
        starts = next;
      }
      starts[n++] = pos;
      const nl = b.indexOf(10, pos);
      if (nl < 0) break;
      pos = nl + 1;
    }
    this.starts = starts;
    this.count = n;
    if (n === 0) throw new Error(`${file}: empty ASN list`);
    const first = this.field(0, 0);
    if (first === null) throw new Error(`${file}: not an ASN range list (start,end,asn,org)`);
    this.family = first.includes(':') || (!first.includes('.') && first.length > 10) ? 6 : 4;
    if (this.key(first) === null) throw new Error(`${file}: line 1: bad range start "${first}"`);
  }

  /** Field `idx` (0-based) of line `i`, unquoted only for the organisation. */
  /** End of line i, without its LF (and CR). */
  private lineEnd(i: number): number {
    const b = this.buf;
    let end = i + 1 < this.count ? this.starts[i + 1]! - 1 : b.length;
    if (end > this.starts[i]! && b[end - 1] === 10) end--;
    if (end > this.starts[i]! && b[end - 1] === 13) end--;
    return end;
  }

  private field(i: number, idx: number): string | null {
    const b = this.buf;
    let p = this.starts[i]!;
    const end = this.lineEnd(i);
    for (let k = 0; k < idx; k++) {
      const c = b.indexOf(44, p);
      if (c < 0 || c >= end) return null;
      p = c + 1;
    }
    let e = idx < 3 ? b.indexOf(44, p) : end;
    if (e < 0 || e > end) e = end;
    return b.toString('latin1', p, e);
  }

  private key(s: string): Key | null {
    if (this.family === 4) {
      if (s.includes('.')) {
        const bytes = parseIp(s);
        return bytes && bytes.length === 4 ? ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]! : null;
      }
      const v = Number(s);
      return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : null;
    }
    if (s.includes(':')) {
      const bytes = parseIp(s);
      if (!bytes || bytes.length !== 16) return null;
      let v = 0n;
      for (const x of bytes) v = (v << 8n) | BigInt(x);
      return v;
    }
    try {
      return BigInt(s);
    } catch {
      return null;
    }
  }

  /** The record whose range holds the address (canonical text of this list's family), or null. */
  lookup(ip: string): AsnRecord | null {
    const k = this.key(ip);
    if (k === null) return null;
    // Last line whose start ≤ k.
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.key(this.field(mid, 0) ?? '');
      if (s === null) return null;
      if (s <= k) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // A range nested in an earlier one (the lists have a few): look back a little.
    for (let i = found; i >= 0 && i > found - 32; i--) {
      const end = this.key(this.field(i, 1) ?? '');
      const start = this.key(this.field(i, 0) ?? '');
      if (end === null || start === null) return null;
      if (start <= k && k <= end) return this.record(i);
    }
    return null;
  }

  private record(i: number): AsnRecord | null {
    const asn = Number(this.field(i, 2));
    // The organisation is the rest of the line (commas and all); decode as UTF-8.
    const b = this.buf;
    const end = this.lineEnd(i);
    let p = this.starts[i]!;
    for (let k = 0; k < 3; k++) {
      const c = b.indexOf(44, p);
      if (c < 0 || c >= end) return null;
      p = c + 1;
    }
    let org = b.toString('utf8', p, end);
    if (org.length >= 2 && org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
    return Number.isInteger(asn) ? { asn, org } : null;
  }
}
