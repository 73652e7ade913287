import { isIPv4, isIPv6 } from 'node:net';

/** Formats the address at buf[off] (4 or 16 bytes) the way `inet_ntop` does. */
export function formatIp(buf: Uint8Array, off: number, version: number): string {
  if (version === 4) return formatIpv4(buf, off);
  return formatIpv6(buf, off);
}

export function formatIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * RFC 5952 text form: lower case, the first longest run (≥ 2) of zero groups as `::`, dotted IPv4
 * for ::ffff:0:0/96. Builds the string directly (no arrays): it runs for every IPv6 flow and strike.
 */
export function formatIpv6(b: Uint8Array, off = 0): string {
  return ipv6Text(b, off, false);
}

/**
 * The form tcpdump (and BSD/glibc inet_ntop) prints, which differs from RFC 5952 in one place:
 * the deprecated IPv4-compatible addresses ::a.b.c.d (96 zero bits, then not ::/0 or ::x) are
 * dotted too. `dump` uses it so that its lines equal tcpdump's.
 */
export function formatIpv6Tcpdump(b: Uint8Array, off = 0): string {
  return ipv6Text(b, off, true);
}

const groups = new Uint16Array(8);

function ipv6Text(b: Uint8Array, off: number, v4compat: boolean): string {
  const g = groups;
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && (g[5] === 0xffff || (v4compat && g[5] === 0 && g[6] !== 0))) {
    return `${g[5] ? '::ffff:' : '::'}${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // Characters go into a scratch buffer and become one flat string: `+=` would build a tree of
  // cons strings, which costs several times the memory in tables that keep the text.
  const t = text;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      t[n++] = 58;
      t[n++] = 58;
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLen) t[n++] = 58;
    const v = g[i]!;
    if (v >= 0x1000) t[n++] = HEX[v >> 12]!;
    if (v >= 0x100) t[n++] = HEX[(v >> 8) & 15]!;
    if (v >= 0x10) t[n++] = HEX[(v >> 4) & 15]!;
    t[n++] = HEX[v & 15]!;
  }
  return t.toString('latin1', 0, n);
}

const text = Buffer.alloc(48);
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** Address bytes (4 or 16) of a textual IPv4/IPv6 address; null when it is not one. */
export function parseIp(ip: string): Uint8Array | null {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) return null;
  let s = ip.split('%')[0]!;
  const tail: number[] = [];
  const last = s.slice(s.lastIndexOf(':') + 1);
  if (last.includes('.')) {
    const p = last.split('.').map(Number);
    tail.push((p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!);
    s = s.slice(0, s.length - last.length);
    if (s.endsWith('::')) s += '';
    else s = s.slice(0, -1);
  }
  const want = 8 - tail.length;
  let groups: string[];
  if (s.includes('::')) {
    const [h, t] = s.split('::');
    const head = h ? h.split(':') : [];
    const rest = t ? t.split(':') : [];
    groups = [...head, ...Array<string>(want - head.length - rest.length).fill('0'), ...rest];
  } else groups = s ? s.split(':') : [];
  const nums = [...groups.map((x) => parseInt(x, 16)), ...tail];
  const out = new Uint8Array(16);
  nums.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  return out;
}
