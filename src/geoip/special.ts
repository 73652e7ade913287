import { parseIp } from '../net/ip-text.js';

/**
 * Addresses no GeoIP database can place: private, loopback, link-local, documentation and other
 * special-purpose ranges (IANA IPv4/IPv6 Special-Purpose Address Registries). They get a label
 * instead of a lookup — a database answers them with nothing or, worse, with a wrong record.
 * Plain prefix comparisons on the address bytes (node's BlockList allocates per check).
 */

const RANGES: [string, number, string][] = [
  ['0.0.0.0', 8, 'This network'],
  ['10.0.0.0', 8, 'Private network'],
  ['100.64.0.0', 10, 'Shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'Loopback'],
  ['169.254.0.0', 16, 'Link-local'],
  ['172.16.0.0', 12, 'Private network'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'Documentation'],
  ['192.88.99.0', 24, 'Reserved (6to4 relay anycast)'],
  ['192.168.0.0', 16, 'Private network'],
  ['198.18.0.0', 15, 'Benchmarking'],
  ['198.51.100.0', 24, 'Documentation'],
  ['203.0.113.0', 24, 'Documentation'],
  ['224.0.0.0', 4, 'Multicast'],
  ['240.0.0.0', 4, 'Reserved'],
  ['::', 128, 'Unspecified'],
  ['::1', 128, 'Loopback'],
  ['100::', 64, 'Discard-only'],
  ['2001:db8::', 32, 'Documentation'],
  ['3fff::', 20, 'Documentation'],
  ['fc00::', 7, 'Private network (unique local)'],
  ['fe80::', 10, 'Link-local'],
  ['ff00::', 8, 'Multicast'],
];

interface Net {
  bytes: Uint8Array;
  len: number;
  label: string;
}

const V4: Net[] = [];
const V6: Net[] = [];
for (const [net, len, label] of RANGES) {
  const bytes = parseIp(net)!;
  (bytes.length === 4 ? V4 : V6).push({ bytes, len, label });
}

function within(a: Uint8Array, n: Net): boolean {
  const full = n.len >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== n.bytes[i]) return false;
  const rest = n.len & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[full]! & mask) === (n.bytes[full]! & mask);
}

/** The special-purpose label of a canonical address (see accounts/ip.ts), or null. */
export function specialRange(ip: string): string | null {
  const a = parseIp(ip);
  if (!a) return null;
  for (const n of a.length === 4 ? V4 : V6) if (within(a, n)) return n.label;
  return null;
}
