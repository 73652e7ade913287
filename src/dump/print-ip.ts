/**
 * tcpdump's IPv4 and IPv6 printers (print-ip.c, print-ip6.c): addresses, truncation notes, IPv6
 * extension headers and fragments, then the transport (TCP, UDP, ICMP, ICMPv6, IP-in-IP tunnels).
 */
import { formatIpv4, formatIpv6Tcpdump } from '../net/ip-text.js';
import type { PrintState } from './print-state.js';
import { tcp } from './print-tcp.js';
import { udp } from './print-udp.js';
import { icmp, icmp6 } from './print-icmp.js';

export function ip4(pr: PrintState, p: number, wire: number): string {
  const b = pr.buf;
  if (pr.end - p < 1) return ' [|ip]';
  const v = b[p]! >> 4;
  if (v !== 4) return v === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${v} (invalid)`;
  if (pr.end - p < 20) return 'IP  [|ip]';
  const hlen = (b[p]! & 0x0f) * 4;
  const ipLen = (b[p + 2]! << 8) | b[p + 3]!;
  if (hlen < 20) return `IP bad-hlen ${hlen}`;
  if (ipLen < hlen) return `IP bad-len ${ipLen}`;
  let s = 'IP ';
  if (wire < ipLen) s += `truncated-ip - ${ipLen - wire} bytes missing! `;
  if (pr.end - p < hlen) return s + ' [|ip]';
  const frag = (b[p + 6]! << 8) | b[p + 7]!;
  const proto = b[p + 9]!;
  const src = formatIpv4(b, p + 12);
  const dst = formatIpv4(b, p + 16);
  const capEnd = Math.min(pr.end, p + ipLen);
  const len = ipLen - hlen;
  const t = p + hlen;
  if (frag & 0x1fff) return s + `${src} > ${dst}: ip-proto-${proto}`;
  const key = (): [string, string] => [b.toString('latin1', p + 12, p + 16), b.toString('latin1', p + 16, p + 20)];
  switch (proto) {
    case 6:
      return s + tcp(pr, t, capEnd, len, src, dst, true, key);
    case 17:
      return s + udp(pr, t, capEnd, len, src, dst, true);
    case 1:
      return s + `${src} > ${dst}: ` + icmp(pr, t, capEnd, len);
    case 4:
      return s + `${src} > ${dst}: ` + pr.sub(() => ip4(pr, t, len), capEnd);
    case 41:
      return s + `${src} > ${dst}: ` + pr.sub(() => ip6(pr, t, len), capEnd);
    case 58:
      return s + `${src} > ${dst}: [ICMPv6 requires IPv6] (invalid)`;
    default:
      return s + `${src} > ${dst}:  ip-proto-${proto} ${len}`;
  }
}

export function ip6(pr: PrintState, p: number, wire: number): string {
  const b = pr.buf;
  if (pr.end - p < 40) return ' [|ip6]';
  const v = b[p]! >> 4;
  if (v !== 6) return v === 4 ? 'IP, wrong link-layer encapsulation (invalid)' : `IP6 version ${v} (invalid)`;
  const plen = (b[p + 4]! << 8) | b[p + 5]!;
  let nh = b[p + 6]!;
  let s = 'IP6 ';
  if (wire < 40 + plen) s += `truncated-ip6 - ${40 + plen - wire} bytes missing!`;
  const src = formatIpv6Tcpdump(b, p + 8);
  const dst = formatIpv6Tcpdump(b, p + 24);
  const capEnd = Math.min(pr.end, p + 40 + plen);
  let q = p + 40;
  let len = plen;
  let ext = '';
  const key = (): [string, string] => [b.toString('latin1', p + 8, p + 24), b.toString('latin1', p + 24, p + 40)];
  for (let hops = 0; hops < 16; hops++) {
    switch (nh) {
      case 6:
        return s + (ext ? `${src} > ${dst}: ${ext}` : '') + tcp(pr, q, capEnd, len, src, dst, ext === '', key);
      case 17:
        return s + (ext ? `${src} > ${dst}: ${ext}` : '') + udp(pr, q, capEnd, len, src, dst, ext === '');
      case 58:
        return s + `${src} > ${dst}: ${ext}` + icmp6(pr, q, capEnd, len);
      case 59:
        return s + `${src} > ${dst}: ${ext}no next header`;
      case 0:
      case 60:
      case 43: {
        if (capEnd - q < 2) return s + `${src} > ${dst}: ${ext} [|ip6]`;
        const hl = (b[q + 1]! + 1) * 8;
        if (nh === 0) ext += 'HBH ';
        else if (nh === 60) ext += 'DSTOPT ';
        else {
          if (capEnd - q < 4) return s + `${src} > ${dst}: ${ext} [|ip6]`;
          const type = b[q + 2]!;
          const segleft = b[q + 3]!;
          let r = `RT6 (len=${b[q + 1]!}, type=${type}${type === 0 ? ' [Deprecated]' : ''}, segleft=${segleft}`;
          if (type === 0) {
            for (let a = q + 8, i = 0; a + 16 <= Math.min(capEnd, q + hl); a += 16, i++) r += `, [${i}]${formatIpv6Tcpdump(b, a)}`;
          }
          ext += r + ') ';
        }
        nh = b[q]!;
        q += hl;
        len -= hl;
        break;
      }
      case 44: {
        if (capEnd - q < 8) return s + `${src} > ${dst}: ${ext} [|frag]`;
        const fo = ((b[q + 2]! << 8) | b[q + 3]!) & 0xfff8;
        nh = b[q]!;
        q += 8;
        len -= 8;
        ext += `frag (${fo}|${len})`;
        if (fo !== 0) return s + `${src} > ${dst}: ${ext}`;
        ext += ' ';
        break;
      }
      default:
        return s + `${src} > ${dst}: ${ext} ip-proto-${nh} ${len}`;
    }
  }
  return s + `${src} > ${dst}: ${ext}`;
}
