import { formatIpv6 } from './ip-text.js';

/**
 * Addresses as four 32-bit words, for tables that hold millions of them: a string key costs
 * 30–50 bytes plus a Map entry, four words cost 16 bytes in a typed array. Parsing walks the text
 * once and allocates nothing (it runs per event, not per packet, but an attack has many events).
 */

/** IPv4 text → word 0 (words 1–3 zero); returns 4, or 0 when `s` is not dotted-quad. */
function packIpv4(s: string, from: number, out: Uint32Array, at: number): boolean {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      // '.'
      if (digits === 0 || ++dots > 3) return false;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return false;
    } else return false;
  }
  if (digits === 0 || dots !== 3) return false;
  out[at] = v * 256 + part;
  return true;
}

const groups = new Uint16Array(8);

/**
 * Parses `s` into `out[0..3]` (big-endian words: IPv4 in word 0). Returns 4 or 6 for the family,
 * 0 when `s` is neither (the caller keeps such keys apart). Accepts what `inet_ntop`/our
 * formatter print: hex groups, one `::`, a dotted IPv4 tail.
 */
export function packIp(s: string, out: Uint32Array): 0 | 4 | 6 {
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  if (s.indexOf(':') < 0) return packIpv4(s, 0, out, 0) ? 4 : 0;
  let n = 0; // groups written
  let gap = -1; // group index where '::' stands
  let i = 0;
  const len = s.length;
  if (s.charCodeAt(0) === 58) {
    // leading '::'
    if (s.charCodeAt(1) !== 58) return 0;
    gap = 0;
    i = 2;
    if (i === len) return finish6(n, gap, out);
  }
  for (;;) {
    // one group, or a dotted tail
    let v = 0;
    let digits = 0;
    const start = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = v * 16 + d;
      if (++digits > 4) return 0;
      i++;
    }
    if (i < len && s.charCodeAt(i) === 46) {
      // dotted IPv4 tail
      if (n > 6 || !packIpv4(s, start, out, 3)) return 0;
      groups[n++] = out[3] >>> 16;
      groups[n++] = out[3] & 0xffff;
      return finish6(n, gap, out);
    }
    if (digits === 0 || n >= 8) return 0;
    groups[n++] = v;
    if (i === len) return finish6(n, gap, out);
    if (s.charCodeAt(i) !== 58) return 0;
    i++;
    if (s.charCodeAt(i) === 58) {
      // '::'
      if (gap >= 0) return 0;
      gap = n;
      i++;
      if (i === len) return finish6(n, gap, out);
    }
  }
}

function finish6(n: number, gap: number, out: Uint32Array): 0 | 6 {
  if (gap < 0 ? n !== 8 : n > 7) return 0;
  if (gap >= 0) {
    // move the groups after '::' to the end, zeros between
    const fill = 8 - n;
    for (let k = n - 1; k >= gap; k--) groups[k + fill] = groups[k]!;
    for (let k = gap; k < gap + fill; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return 6;
}

const bytes = new Uint8Array(16);

/** The text form of packed words, exactly as the flow table formats addresses (`formatIp`). */
export function unpackIp(family: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
  if (family === 4) return `${w0 >>> 24}.${(w0 >>> 16) & 0xff}.${(w0 >>> 8) & 0xff}.${w0 & 0xff}`;
  const w = [w0, w1, w2, w3];
  for (let k = 0; k < 4; k++) {
    const x = w[k]!;
    bytes[4 * k] = x >>> 24;
    bytes[4 * k + 1] = (x >>> 16) & 0xff;
    bytes[4 * k + 2] = (x >>> 8) & 0xff;
    bytes[4 * k + 3] = x & 0xff;
  }
  return formatIpv6(bytes);
}
