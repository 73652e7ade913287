/** tcpdump's UDP printer (print-udp.c): ports, length checks, DNS and mDNS by port. */
import { dnsText } from './dns.js';
import type { PrintState } from './print-state.js';

export function udp(pr: PrintState, u: number, capEnd: number, len: number, src: string, dst: string, addrs: boolean): string {
  const b = pr.buf;
  const avail = capEnd - u;
  if (avail < 4 || len < 4) return addrs ? `${src} > ${dst}:  [|udp]` : ' [|udp]';
  const sport = (b[u]! << 8) | b[u + 1]!;
  const dport = (b[u + 2]! << 8) | b[u + 3]!;
  const head = addrs ? `${src}.${sport} > ${dst}.${dport}: ` : `${sport} > ${dport}: `;
  if (len < 8) return head + `truncated-udp ${len}`;
  if (avail < 6) return head + ' [|udp]';
  let ulen = (b[u + 4]! << 8) | b[u + 5]!;
  if (ulen === 0 && len >= 65536) ulen = len;
  if (ulen < 8) return head + `truncated-udplength ${ulen}`;
  ulen -= 8;
  const rest = len - 8;
  if (ulen > rest) return head + `UDP, bad length ${ulen} > ${rest}`;
  if (!pr.opts.noPayloadText && (sport === 53 || dport === 53 || sport === 5353 || dport === 5353)) {
    const mdns = sport !== 53 && dport !== 53;
    return head + dnsText(b, u + 8, Math.max(0, capEnd - (u + 8)), ulen, mdns);
  }
  return head + `UDP, length ${ulen}`;
}
