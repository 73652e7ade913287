/** tcpdump's ARP/RARP line (print-arp.c, -nn, not verbose). */
import { hex4, hexAsciiLines, macText } from './text.js';
import { formatIpv4 } from '../net/ip-text.js';
import type { PrintState } from './print-state.js';

export function arp(pr: PrintState, p: number, wire: number): string {
  const b = pr.buf;
  const avail = pr.end - p;
  if (avail < 8) return pr.cut(' [|arp]');
  const pro = (b[p + 2]! << 8) | b[p + 3]!;
  const hln = b[p + 4]!;
  const pln = b[p + 5]!;
  const op = (b[p + 6]! << 8) | b[p + 7]!;
  if (pro !== 0x0800 || hln !== 6 || pln !== 4) {
    return `ARP, hardware type ${(b[p]! << 8) | b[p + 1]!}, protocol 0x${hex4(pro)}, op ${op}, length ${wire}`;
  }
  if (avail < 28) return pr.cut(' [|arp]');
  const sha = macText(b, p + 8);
  const spa = formatIpv4(b, p + 14);
  const thaZero = b.readUInt32BE(p + 18) === 0 && b.readUInt16BE(p + 22) === 0;
  const tha = macText(b, p + 18);
  const tpa = formatIpv4(b, p + 24);
  switch (op) {
    case 1:
      return `ARP, Request who-has ${tpa}${thaZero ? '' : ` (${tha})`} tell ${spa}, length ${wire}`;
    case 2:
      return `ARP, Reply ${spa} is-at ${sha}, length ${wire}`;
    case 3:
      return `ARP, Reverse Request who-is ${tha} tell ${sha}, length ${wire}`;
    case 4:
      return `ARP, Reverse Reply ${tha} at ${tpa}, length ${wire}`;
    case 8:
      return `ARP, Inverse Request who-is ${tha} tell ${sha}, length ${wire}`;
    case 9:
      return `ARP, Inverse Reply ${sha} at ${spa}, length ${wire}`;
    default:
      return `ARP, Unknown (${op}) ` + hexAsciiLines(b, p, Math.min(pr.end, p + 28));
  }
}
