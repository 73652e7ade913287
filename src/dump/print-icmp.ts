/** tcpdump's ICMP and ICMPv6 printers (print-icmp.c, print-icmp6.c), non-verbose forms. */
import { hex4, hexAsciiLines } from './text.js';
import { formatIpv4, formatIpv6Tcpdump } from '../net/ip-text.js';
import type { PrintState } from './print-state.js';

const UNREACH_IP: Record<number, string> = {
  5: '%s unreachable - source route failed',
  6: 'net %s unreachable - unknown',
  7: 'host %s unreachable - unknown',
  8: '%s unreachable - source host isolated',
  9: 'net %s unreachable - admin prohibited',
  10: 'host %s unreachable - admin prohibited',
  11: 'net %s unreachable - tos prohibited',
  12: 'host %s unreachable - tos prohibited',
  13: 'host %s unreachable - admin prohibited filter',
  14: 'host %s unreachable - host precedence violation',
  15: 'host %s unreachable - precedence cutoff',
};

const ICMP6_SIMPLE: Record<number, string> = {
  133: 'router solicitation',
  134: 'router advertisement',
  141: 'inverse neighbor solicitation',
  142: 'inverse neighbor advertisement',
  144: 'ha discovery request',
  145: 'ha discovery reply',
  146: 'mobile router solicitation',
  147: 'mobile router advertisement',
};

/** ICMPv6 types tcpdump decodes in ways not reproduced here (node information, mtrace, …). */
const ICMP6_KNOWN = new Set([138, 139, 140, 148, 149, 150, 151, 152, 153, 200, 201]);

export function icmp(pr: PrintState, c: number, capEnd: number, len: number): string {
  const b = pr.buf;
  const avail = capEnd - c;
  const trunc = ' [|icmp]';
  if (avail < 2) return pr.cut(trunc);
  const type = b[c]!;
  const code = b[c + 1]!;
  const inner = (): { dst: string; proto: number; dport: number | null } | null => {
    const ip = c + 8;
    if (capEnd - ip < 20) return null;
    const ihl = (b[ip]! & 0x0f) * 4;
    const dport = capEnd - (ip + ihl) >= 4 ? (b[ip + ihl + 2]! << 8) | b[ip + ihl + 3]! : null;
    return { dst: formatIpv4(b, ip + 16), proto: b[ip + 9]!, dport };
  };
  let text: string;
  switch (type) {
    case 0:
    case 8:
      if (avail < 8) return pr.cut(trunc);
      text = `echo ${type === 8 ? 'request' : 'reply'}, id ${b.readUInt16BE(c + 4)}, seq ${b.readUInt16BE(c + 6)}`;
      break;
    case 3: {
      const ip = inner();
      if (!ip) return trunc;
      switch (code) {
        case 0:
          text = `net ${ip.dst} unreachable`;
          break;
        case 1:
          text = `host ${ip.dst} unreachable`;
          break;
        case 2:
          text = `${ip.dst} protocol ${ip.proto} unreachable`;
          break;
        case 3:
          if (ip.dport === null) return trunc;
          text =
            ip.proto === 6
              ? `${ip.dst} tcp port ${ip.dport} unreachable`
              : ip.proto === 17
                ? `${ip.dst} udp port ${ip.dport} unreachable`
                : `${ip.dst} protocol ${ip.proto} port ${ip.dport} unreachable`;
          break;
        case 4: {
          const mtu = b.readUInt16BE(c + 6);
          text = `${ip.dst} unreachable - need to frag` + (mtu ? ` (mtu ${mtu})` : '');
          break;
        }
        default:
          text = (UNREACH_IP[code] ?? `%s unreachable - #${code}`).replace('%s', ip.dst);
      }
      break;
    }
    case 5: {
      if (avail < 8) return trunc;
      const ip = inner();
      if (!ip) return trunc;
      const gw = formatIpv4(b, c + 4);
      text =
        code === 0
          ? `redirect ${ip.dst} to net ${gw}`
          : code === 1
            ? `redirect ${ip.dst} to host ${gw}`
            : code === 2
              ? `redirect-tos ${ip.dst} to net ${gw}`
              : code === 3
                ? `redirect-tos ${ip.dst} to host ${gw}`
                : `redirect-#${code} ${ip.dst} to ${gw}`;
      break;
    }
    case 11:
      text = code === 0 ? 'time exceeded in-transit' : code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${code}`;
      break;
    case 4:
      text = 'source quench';
      break;
    case 10:
      text = 'router solicitation';
      break;
    case 12:
      if (avail < 5) return trunc;
      text = `parameter problem - octet ${b[c + 4]}`;
      break;
    case 13:
    case 14: {
      if (avail < 8) return trunc;
      text = `time stamp ${type === 13 ? 'query' : 'reply'} id ${b.readUInt16BE(c + 4)} seq ${b.readUInt16BE(c + 6)}`;
      if (type === 14) {
        if (avail < 20) return trunc;
        text += `: org ${msTime(b.readUInt32BE(c + 8))}, recv ${msTime(b.readUInt32BE(c + 12))}, xmit ${msTime(b.readUInt32BE(c + 16))}`;
      }
      break;
    }
    case 15:
      text = 'information request';
      break;
    case 16:
      text = 'information reply';
      break;
    case 17:
      text = 'address mask request';
      break;
    case 18:
      if (avail < 12) return trunc;
      text = `address mask is 0x${b
        .readUInt32BE(c + 8)
        .toString(16)
        .padStart(8, '0')}`;
      break;
    default:
      text = `type-#${type}`;
  }
  return `ICMP ${text}, length ${len}`;
}

export function icmp6(pr: PrintState, c: number, capEnd: number, len: number): string {
  const b = pr.buf;
  const avail = capEnd - c;
  const trunc = ' [|icmp6]';
  if (avail < 4) return trunc;
  const type = b[c]!;
  const code = b[c + 1]!;
  const innerDst = (): string | null => (capEnd - (c + 8) >= 40 ? formatIpv6Tcpdump(b, c + 8 + 24) : null);
  let text: string;
  switch (type) {
    case 1: {
      const dst = innerDst();
      if (dst === null) return trunc;
      switch (code) {
        case 0:
          text = `destination unreachable, unreachable route ${dst}`;
          break;
        case 1:
          text = `destination unreachable,  unreachable prohibited ${dst}`;
          break;
        case 2:
          text = `destination unreachable, beyond scope ${dst}, source address ${formatIpv6Tcpdump(b, c + 8 + 8)}`;
          break;
        case 3:
          text = `destination unreachable, unreachable address ${dst}`;
          break;
        case 4: {
          const ip = c + 8;
          const nh = b[ip + 6]!;
          const t = ip + 40;
          if (capEnd - t < 4) return trunc;
          const dport = (b[t + 2]! << 8) | b[t + 3]!;
          text =
            `destination unreachable, unreachable port, ${dst} ` +
            (nh === 6 ? `tcp port ${dport}` : nh === 17 ? `udp port ${dport}` : `protocol ${nh} port ${dport}`);
          break;
        }
        default:
          return `ICMP6, destination unreachable, unknown unreach code (${code})` + hexAsciiLines(b, c, capEnd, false);
      }
      break;
    }
    case 2:
      if (avail < 8) return trunc;
      text = `packet too big, mtu ${b.readUInt32BE(c + 4)}`;
      break;
    case 3: {
      if (code === 0) {
        const dst = innerDst();
        if (dst === null) return trunc;
        text = `time exceeded in-transit for ${dst}`;
      } else text = code === 1 ? 'time exceeded in-transit (reassembly)' : `time exceeded, unknown code (${code})`;
      break;
    }
    case 4:
      if (avail < 8) return trunc;
      text = `parameter problem, ${code === 0 ? 'erroneous - octet' : code === 1 ? 'next header - octet' : code === 2 ? 'option - octet' : 'code-#' + code} ${b.readUInt32BE(c + 4)}`;
      break;
    case 128:
    case 129:
      if (avail < 8) return trunc;
      text = `echo ${type === 128 ? 'request' : 'reply'}, id ${b.readUInt16BE(c + 4)}, seq ${b.readUInt16BE(c + 6)}`;
      break;
    case 130:
      if (len >= 28) {
        if (avail < 24) return trunc;
        text = `multicast listener query v2 [gaddr ${formatIpv6Tcpdump(b, c + 8)}]`;
      } else {
        if (avail < 24) return trunc;
        text = `multicast listener querymax resp delay: ${b.readUInt16BE(c + 4)} addr: ${formatIpv6Tcpdump(b, c + 8)}`;
      }
      break;
    case 131:
    case 132:
      if (avail < 24) return trunc;
      text = `multicast listener ${type === 131 ? 'report' : 'done'}max resp delay: ${b.readUInt16BE(c + 4)} addr: ${formatIpv6Tcpdump(b, c + 8)}`;
      break;
    case 135:
    case 136:
      if (avail < 24) return trunc;
      text = type === 135 ? `neighbor solicitation, who has ${formatIpv6Tcpdump(b, c + 8)}` : `neighbor advertisement, tgt is ${formatIpv6Tcpdump(b, c + 8)}`;
      break;
    case 137:
      if (avail < 40) return trunc;
      text = `redirect, ${formatIpv6Tcpdump(b, c + 24)} to ${formatIpv6Tcpdump(b, c + 8)}`;
      break;
    case 143:
      if (avail < 8) return trunc;
      text = `multicast listener report v2, ${b.readUInt16BE(c + 6)} group record(s)`;
      break;
    default:
      if (ICMP6_KNOWN.has(type)) return `ICMP6, type ${type}, length ${len}`;
      if (ICMP6_SIMPLE[type] === undefined) {
        return `ICMP6, unknown icmp6 type (${type}), length ${len}` + hexAsciiLines(b, c, capEnd, false);
      }
      text = ICMP6_SIMPLE[type];
      if (type === 144) text += `, id 0x${hex4(avail >= 6 ? b.readUInt16BE(c + 4) : 0)}`;
  }
  return `ICMP6, ${text}, length ${len}`;
}

/** Milliseconds since midnight UTC as tcpdump prints ICMP time stamps. */
function msTime(ms: number): string {
  const h = Math.floor(ms / 3_600_000) % 24;
  const m = Math.floor(ms / 60_000) % 60;
  const sec = Math.floor(ms / 1000) % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}
