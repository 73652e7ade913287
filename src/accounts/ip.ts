import { isIPv6 } from 'node:net';
import { formatIpv6, parseIp } from '../net/ip-text.js';

/**
 * Canonical text of a client address taken from a log line, or null when it is not an address:
 * IPv4 as dotted quad (leading zeros are rejected, `192.030.0.6` is ambiguous), IPv6 in RFC 5952
 * form (lower case, `::` for the longest zero run) without a `%zone`, and IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`) unmapped to `1.2.3.4`, so one client is one key whatever a daemon wrote.
 */
export function canonicalIp(s: string): string | null {
  if (s.indexOf(':') < 0) return isDottedQuad(s) ? s : null;
  const cached = v6Cache.get(s);
  if (cached !== undefined) return cached;
  const out = canonicalV6(s);
  if (v6Cache.size >= 65536) v6Cache.clear();
  v6Cache.set(flat(s), out);
  return out;
}

/**
 * A copy of `s` that does not point into a larger string. Substrings of a decoded log chunk keep
 * the whole chunk (a megabyte) alive for as long as they live; short ones (< 13 chars) are
 * copies already.
 */
export function flat(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

const pool = new Map<string, string>();

/**
 * One string object per distinct value (addresses, user names): no chunk kept alive, and the
 * hash that Map lookups need is computed once per value instead of once per line.
 */
export function intern(s: string): string {
  const v = pool.get(s);
  if (v !== undefined) return v;
  const c = flat(s);
  if (pool.size >= 262144) pool.clear();
  pool.set(c, c);
  return c;
}

const v6Cache = new Map<string, string | null>();

function canonicalV6(raw: string): string | null {
  const pct = raw.indexOf('%');
  const s = pct >= 0 ? raw.slice(0, pct) : raw;
  if (!isIPv6(s)) return null;
  const b = parseIp(s);
  if (!b) return null;
  const text = formatIpv6(b);
  if (text.startsWith('::ffff:') && text.indexOf('.') > 0) return text.slice(7);
  return text;
}

/** Strict dotted quad: four decimal octets 0-255, no leading zeros. */
export function isDottedQuad(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let octets = 0;
  let val = 0;
  let digits = 0;
  let lead0 = false;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || val > 255 || (lead0 && digits > 1)) return false;
      octets++;
      val = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return false;
    if (digits === 0) lead0 = c === 48;
    val = val * 10 + (c - 48);
    digits++;
  }
  return octets === 4;
}

const few: string[] = [];

/** `intern` for values with few distinct spellings (methods, mechanisms): a linear scan, no hashing. */
export function internFew(s: string): string {
  for (let i = 0; i < few.length; i++) if (few[i] === s) return few[i]!;
  const c = flat(s);
  if (few.length < 64) few.push(c);
  return c;
}
