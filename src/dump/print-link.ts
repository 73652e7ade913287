/**
 * tcpdump's link-layer printers (print-ether.c, print-sll.c, print-null.c, raw IP): the link
 * header is read by decode/link-layer.ts, as for replay; the text is tcpdump -nn's without -e.
 */
import { hex4, macText } from './text.js';
import { interfaceName } from './ifnames.js';
import type { PrintState } from './print-state.js';
import { arp } from './print-arp.js';
import { ip4, ip6 } from './print-ip.js';

const ETHER_NAMES: Record<number, string> = {
  0x88cc: 'LLDP', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S', 0x888e: 'EAPOL', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast',
  0x88e5: 'MACsec', 0x88f7: 'PTP', 0x8906: 'FCoE', 0x0842: 'Wake-on-LAN', 0x9000: 'Loopback', 0x88b5: 'Local Experimental',
};

const SLL_TYPES = ['In', 'B', 'M', 'P', 'Out'];

export function ether(pr: PrintState, off: number, wire: number): string {
  const b = pr.buf;
  if (pr.end - off < 14) return ' [|ether]';
  let p = off + 12;
  let etype = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  while (etype === 0x8100 || etype === 0x88a8 || etype === 0x9100) {
    if (pr.end - p < 4) return ' [|vlan]';
    etype = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
  }
  pr.payloadOff = p;
  const rest = wire - (p - off);
  const generic = (): string => {
    const name = etype < 0x600 ? '802.3' : `ethertype ${ETHER_NAMES[etype] ?? 'Unknown'} (0x${hex4(etype)})`;
    return `${macText(b, off + 6)} > ${macText(b, off)}, ${name}, length ${wire}: ` + pr.dump(p, pr.end);
  };
  return network(pr, etype, p, rest, generic);
}

export function sll(pr: PrintState, off: number, wire: number): string {
  const b = pr.buf;
  if (pr.end - off < 16) return pr.cut(' [|sll]');
  let p = off + 16;
  let etype = (b[off + 14]! << 8) | b[off + 15]!;
  while (etype === 0x8100 || etype === 0x88a8) {
    if (pr.end - p < 4) return ' [|vlan]';
    etype = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
  }
  pr.payloadOff = p;
  const generic = (): string => {
    const pt = SLL_TYPES[(b[off]! << 8) | b[off + 1]!] ?? '?';
    const alen = Math.min((b[off + 4]! << 8) | b[off + 5]!, 8);
    return `${pt.padStart(3)} ${macText(b, off + 6, alen)} ethertype ${ETHER_NAMES[etype] ?? 'Unknown'} (0x${hex4(etype)}), length ${wire}: ` +
      pr.dump(p, pr.end);
  };
  return network(pr, etype, p, wire - (p - off), generic);
}

export function sll2(pr: PrintState, off: number, wire: number): string {
  const b = pr.buf;
  if (pr.end - off < 20) return pr.cut(' [|sll2]');
  const etype = (b[off]! << 8) | b[off + 1]!;
  const ifindex = b.readUInt32BE(off + 4);
  const pt = SLL_TYPES[b[off + 10]!] ?? '?';
  const prefix = `${interfaceName(ifindex).padEnd(5)} ${pt.padEnd(3)} `;
  const p = off + 20;
  pr.payloadOff = p;
  const generic = (): string => {
    const alen = Math.min(b[off + 11]!, 8);
    return `ifindex ${ifindex} ${macText(b, off + 12, alen)} ethertype ${ETHER_NAMES[etype] ?? 'Unknown'} (0x${hex4(etype)}), length ${wire}: ` +
      pr.dump(p, pr.end);
  };
  return prefix + network(pr, etype, p, wire - 20, generic);
}

function network(pr: PrintState, etype: number, p: number, wire: number, generic: () => string): string {
  switch (etype) {
    case 0x0800: return ip4(pr, p, wire);
    case 0x86dd: return ip6(pr, p, wire);
    case 0x0806: case 0x8035: return arp(pr, p, wire);
    default: return generic();
  }
}

export function loopback(pr: PrintState, linktype: number, off: number, wire: number): string {
  const buf = pr.buf;
  const caplen = pr.end - off;
  if (caplen < 4) return pr.cut(' [|null]');
  let af = linktype === 0 ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  if (linktype === 0 && af & 0xffff0000) af = buf.readUInt32BE(off);
  pr.payloadOff = off + 4;
  if (af === 2) return ip4(pr, off + 4, wire - 4);
  if (af === 24 || af === 28 || af === 30) return ip6(pr, off + 4, wire - 4);
  return `AF Unknown (${af}), length ${wire}: ` + pr.dump(off + 4, pr.end);
}

export function rawIp(pr: PrintState, _linktype: number, off: number, wire: number): string {
  const buf = pr.buf;
  const caplen = pr.end - off;
  pr.payloadOff = off;
  if (caplen < 1) return ' [|ip]';
  const v = buf[off]! >> 4;
  if (v === 4) return ip4(pr, off, wire);
  if (v === 6) return ip6(pr, off, wire);
  return `unknown ip ${v}`;
}
