/**
 * tcpdump's link-layer printers (print-ether.c, print-sll.c, print-null.c, raw IP): the link
 * header is read by decode/link-layer.ts, as for replay; the text is tcpdump -nn's without -e.
 */
import { hex4, macText } from './text.js';
import { interfaceName } from './ifnames.js';
import type { PrintState } from './print-state.js';
import { EtherType, LinkStop, readLink, type LinkFrame } from '../decode/link-layer.js';
import { arp } from './print-arp.js';
import { ip4, ip6 } from './print-ip.js';

/** tcpdump's names of EtherTypes (its ethertype_values) for the ones printed here. */
const ETHER_NAMES: Record<number, string> = {
  0x0800: 'IPv4',
  0x86dd: 'IPv6',
  0x0806: 'ARP',
  0x8035: 'Reverse ARP',
  0x8100: '802.1Q',
  0x88a8: '802.1Q-QinQ',
  0x9100: '802.1Q-9100',
  0x9200: '802.1Q-9200',
  0x88cc: 'LLDP',
  0x8863: 'PPPoE D',
  0x8864: 'PPPoE S',
  0x888e: 'EAPOL',
  0x8847: 'MPLS unicast',
  0x8848: 'MPLS multicast',
  0x88e5: 'MACsec',
  0x88f7: 'PTP',
  0x8906: 'FCoE',
  0x0842: 'Wake-on-LAN',
  0x9000: 'Loopback',
  0x88b5: 'Local Experimental',
};

const SLL_TYPES = ['In', 'B', 'M', 'P', 'Out'];

/** Ethernet: VLAN tags are stepped over silently (tcpdump prints them only with -e). */
export function ether(pr: PrintState, off: number, wire: number): string {
  const b = pr.buf;
  const l = pr.link;
  if (!readLink(1, b, off, pr.end - off, l)) return l.stop === LinkStop.truncatedVlan ? ' [|vlan]' : ' [|ether]';
  const p = l.off;
  const etype = l.etype;
  pr.payloadOff = p;
  const generic = (): string => {
    const name = etype < 0x600 ? '802.3' : `ethertype ${ETHER_NAMES[etype] ?? 'Unknown'} (0x${hex4(etype)})`;
    return `${macText(b, off + 6)} > ${macText(b, off)}, ${name}, length ${wire}: ` + pr.dump(p, pr.end);
  };
  return network(pr, etype, p, wire - (p - off), generic);
}

/**
 * Linux cooked captures: each 802.1Q tag libpcap re-inserted is printed as `ethertype NAME, `
 * (the EtherType after it), as tcpdump's print-sll.c does even without -e.
 */
function cookedTags(b: Uint8Array, l: LinkFrame): string {
  let s = '';
  for (let i = 0; i < l.tags; i++) {
    const t = (b[l.tagOff + 4 * i + 2]! << 8) | b[l.tagOff + 4 * i + 3]!;
    // (a length instead of a type means 802.2 to tcpdump, whose name it does not know)
    s += `ethertype ${(t > 1500 ? ETHER_NAMES[t] : undefined) ?? 'Unknown'}, `;
  }
  return s;
}

export function sll(pr: PrintState, off: number, wire: number): string {
  const b = pr.buf;
  const l = pr.link;
  const ok = readLink(113, b, off, pr.end - off, l);
  if (l.stop === LinkStop.truncated) return pr.cut(' [|sll]');
  const tags = cookedTags(b, l);
  if (!ok) return tags + ' [|vlan]';
  const p = l.off;
  pr.payloadOff = p;
  const generic = (): string => {
    const pt = SLL_TYPES[(b[off]! << 8) | b[off + 1]!] ?? '?';
    const alen = Math.min((b[off + 4]! << 8) | b[off + 5]!, 8);
    const htype = (b[off + 14]! << 8) | b[off + 15]!;
    return (
      `${pt.padStart(3)} ${macText(b, off + 6, alen)} ethertype ${ETHER_NAMES[htype] ?? 'Unknown'} (0x${hex4(htype)}), length ${wire - 4 * l.tags}: ` +
      pr.dump(p, pr.end)
    );
  };
  return tags + network(pr, l.etype, p, wire - (p - off), generic);
}

export function sll2(pr: PrintState, off: number, wire: number): string {
  const b = pr.buf;
  const l = pr.link;
  const ok = readLink(276, b, off, pr.end - off, l);
  if (l.stop === LinkStop.truncated) return pr.cut(' [|sll2]');
  const htype = (b[off]! << 8) | b[off + 1]!;
  const ifindex = b.readUInt32BE(off + 4);
  const pt = SLL_TYPES[b[off + 10]!] ?? '?';
  const prefix = `${interfaceName(ifindex).padEnd(5)} ${pt.padEnd(3)} ` + cookedTags(b, l);
  if (!ok) return prefix + ' [|vlan]';
  const p = l.off;
  pr.payloadOff = p;
  const generic = (): string => {
    const alen = Math.min(b[off + 11]!, 8);
    return (
      `ifindex ${ifindex} ${macText(b, off + 12, alen)} ethertype ${ETHER_NAMES[htype] ?? 'Unknown'} (0x${hex4(htype)}), length ${wire - 4 * l.tags}: ` +
      pr.dump(p, pr.end)
    );
  };
  return prefix + network(pr, l.etype, p, wire - (p - off), generic);
}

function network(pr: PrintState, etype: number, p: number, wire: number, generic: () => string): string {
  switch (etype) {
    case 0x0800:
      return ip4(pr, p, wire);
    case 0x86dd:
      return ip6(pr, p, wire);
    case 0x0806:
    case 0x8035:
      return arp(pr, p, wire);
    default:
      return generic();
  }
}

/** BSD loopback (NULL, LOOP): tcpdump's print-null.c. */
export function loopback(pr: PrintState, linktype: number, off: number, wire: number): string {
  const l = pr.link;
  if (!readLink(linktype, pr.buf, off, pr.end - off, l)) return pr.cut(' [|null]');
  pr.payloadOff = l.off;
  if (l.etype === EtherType.IPV4) return ip4(pr, l.off, wire - 4);
  if (l.etype === EtherType.IPV6) return ip6(pr, l.off, wire - 4);
  return `AF Unknown (${l.af}), length ${wire}: ` + pr.dump(l.off, pr.end);
}

/** Raw IP (RAW, 12, 14, IPV4, IPV6): the version nibble decides, as in tcpdump's print-raw.c. */
export function rawIp(pr: PrintState, linktype: number, off: number, wire: number): string {
  const l = pr.link;
  pr.payloadOff = off;
  if (!readLink(linktype, pr.buf, off, pr.end - off, l)) return ' [|ip]';
  if (l.etype === EtherType.IPV4) return ip4(pr, off, wire);
  if (l.etype === EtherType.IPV6) return ip6(pr, off, wire);
  return `unknown ip ${pr.buf[off]! >> 4}`;
}
