/**
 * tcpdump's TCP printer (print-tcp.c): flags, relative sequence numbers, options, and the text
 * tcpdump adds for the text protocols it knows by port and for DNS over TCP.
 */
import { dnsText } from './dns.js';
import { tcpdumpText, textProtoFor } from './tcpdump-text.js';
import { hex2, hex4 } from './text.js';
import type { PrintState } from './print-state.js';

const FLAG_CHARS: [number, string][] = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];
const FLAG_TEXT: string[] = Array.from({ length: 256 }, (_, f) => {
  let s = '';
  for (const [bit, c] of FLAG_CHARS) if (f & bit) s += c;
  return s || 'none';
});

const TCP_OPT_NAMES: Record<number, string> = {
  0: 'eol',
  1: 'nop',
  2: 'mss',
  3: 'wscale',
  4: 'sackOK',
  5: 'sack',
  6: 'echo',
  7: 'echoreply',
  8: 'TS',
  11: 'cc',
  12: 'ccnew',
  13: '',
  19: 'md5',
  20: 'scps',
  28: 'uto',
  29: 'tcp-ao',
  30: 'mptcp',
  34: 'tfo',
  254: 'exp',
};
const MPTCP_SUBTYPES = ['capable', 'join', 'dss', 'add-addr', 'rem-addr', 'prio', 'fail', 'fast-close', 'tcprst'];

export function tcp(pr: PrintState, t: number, capEnd: number, len: number, src: string, dst: string, addrs: boolean, key: () => [string, string]): string {
  const b = pr.buf;
  const avail = capEnd - t;
  if (avail < 4) return addrs ? `${src} > ${dst}: [|tcp]` : ' [|tcp]';
  const sport = (b[t]! << 8) | b[t + 1]!;
  const dport = (b[t + 2]! << 8) | b[t + 3]!;
  let s = addrs ? `${src}.${sport} > ${dst}.${dport}: ` : `${sport} > ${dport}: `;
  if (avail < 20) return s + ' [|tcp]';
  const hlen = (b[t + 12]! >> 4) * 4;
  if (hlen < 20) return s + ` tcp ${(len - hlen) >>> 0} [bad hdr length ${hlen} - too short, < 20]`;
  const flags = b[t + 13]!;
  let seq = b.readUInt32BE(t + 4);
  let ack = b.readUInt32BE(t + 8);
  const win = (b[t + 14]! << 8) | b[t + 15]!;
  s += `Flags [${FLAG_TEXT[flags]}]`;
  const rel = pr.rel;
  let useRel = false;
  if (!pr.opts.absoluteSeq && flags & 0x10) {
    const [ks, kd] = key();
    rel.apply(ks, kd, sport, dport, seq, ack, (flags & 0x02) !== 0);
    seq = rel.seq;
    ack = rel.ack;
    useRel = true;
  }
  if (hlen > len) return s + ` [bad hdr length ${hlen} - too long, > ${len}]`;
  const plen = len - hlen;
  if (plen > 0 || flags & 0x07) {
    s += `, seq ${seq}`;
    if (plen > 0) s += `:${(seq + plen) >>> 0}`;
  }
  if (flags & 0x10) s += `, ack ${ack}`;
  s += `, win ${win}`;
  if (flags & 0x20) s += `, urg ${(b[t + 18]! << 8) | b[t + 19]!}`;
  if (hlen > 20) {
    const o = tcpOptions(pr, t + 20, hlen - 20, capEnd, useRel);
    s += o.text;
    if (o.stop) return s;
  }
  s += `, length ${plen}`;
  const proto = plen > 0 && !pr.opts.noPayloadText ? textProtoFor(sport, dport) : null;
  if (proto) {
    const po = t + hlen;
    const r = tcpdumpText(proto, b, po, Math.max(0, Math.min(capEnd - po, plen)), plen);
    if (r.cut) pr.cut(null);
    s += r.text;
  } else if (plen > 0 && (sport === 53 || dport === 53) && !pr.opts.noPayloadText) {
    s += dnsOverTcp(pr, t + hlen, capEnd, plen);
  }
  return s;
}

/** DNS over TCP: the two-byte length, then the message. */
function dnsOverTcp(pr: PrintState, po: number, capEnd: number, plen: number): string {
  const b = pr.buf;
  if (plen < 2) return ` [DNS over TCP: length ${plen} < 2] (invalid)`;
  if (capEnd - po < 2) return ' [|domain]';
  const prefix = (b[po]! << 8) | b[po + 1]!;
  if (prefix !== plen - 2) return ` [prefix length(${prefix}) != length(${plen - 2})] (invalid)`;
  return ' ' + dnsText(b, po + 2, Math.max(0, capEnd - (po + 2)), plen - 2, false);
}

function tcpOptions(pr: PrintState, o: number, hl: number, capEnd: number, useRel: boolean): { text: string; stop: boolean } {
  const b = pr.buf;
  let s = ', options [';
  let first = true;
  const trunc = (): { text: string; stop: boolean } => ({ text: s + ' [|tcp]' + (first ? '' : '>'), stop: true });
  while (hl > 0) {
    if (!first) s += ',';
    if (o >= capEnd) return pr.cut({ text: s + ' [|tcp]', stop: true });
    const opt = b[o++]!;
    let olen = 1;
    if (opt > 1) {
      if (o >= capEnd) return pr.cut({ text: s + ' [|tcp]', stop: true });
      olen = b[o++]!;
      if (olen < 2 || olen > hl) return { text: s + '[bad opt]' + (first ? '' : ']'), stop: true };
      hl--;
    }
    hl--;
    s += TCP_OPT_NAMES[opt] ?? `unknown-${opt}`;
    /** LENCHECK: false → `bad`, null → truncated, true → fine. */
    const check = (n: number): boolean | null => (n > hl ? false : o + n > capEnd ? null : true);
    const bad = (): { text: string; stop: boolean } => ({ text: s + '[bad opt]' + (first ? '' : ']'), stop: true });
    let datalen = 0;
    switch (opt) {
      case 0:
      case 1:
      case 4:
        break;
      case 2:
      case 3:
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
      case 8:
      case 20:
      case 28: {
        datalen = opt === 2 || opt === 20 || opt === 28 ? 2 : opt === 3 ? 1 : opt === 8 ? 8 : 4;
        const c = check(datalen);
        if (c === false) return bad();
        if (c === null) return trunc();
        if (opt === 2) s += ` ${b.readUInt16BE(o)}`;
        else if (opt === 3) s += ` ${b[o]}`;
        else if (opt === 8) s += ` val ${b.readUInt32BE(o)} ecr ${b.readUInt32BE(o + 4)}`;
        else if (opt === 20) s += ` cap ${hex2(b[o]!)} id ${b[o + 1]}`;
        else if (opt === 28) {
          const v = b.readUInt16BE(o);
          s += ` 0x${v.toString(16)} ${v & 1 ? (v >> 1) * 60 : v >> 1}`;
        } else s += ` ${b.readUInt32BE(o)}`;
        break;
      }
      case 5: {
        datalen = olen - 2;
        if (datalen % 8 !== 0) {
          s += ' invalid sack';
          break;
        }
        s += ` ${datalen / 8} `;
        for (let i = 0; i < datalen; i += 8) {
          let c = check(i + 4);
          if (c === false) return bad();
          if (c === null) return trunc();
          c = check(i + 8);
          if (c === false) return bad();
          if (c === null) return trunc();
          let a = b.readUInt32BE(o + i);
          let z = b.readUInt32BE(o + i + 4);
          if (useRel) {
            const base = pr.rel.rev ? pr.rel.thSeq : pr.rel.thAck;
            a = (a - base) >>> 0;
            z = (z - base) >>> 0;
          }
          s += `{${a}:${z}}`;
        }
        break;
      }
      case 19: {
        datalen = 16;
        const c = check(16);
        if (c === false) return bad();
        if (c === null) return trunc();
        s += " shared secret not supplied with -M, can't check - ";
        for (let i = 0; i < 16; i++) s += hex2(b[o + i]!);
        break;
      }
      case 29: {
        datalen = olen - 2;
        if (datalen < 2) {
          s += ' invalid';
          break;
        }
        const c = check(datalen);
        if (c === false) return bad();
        if (c === null) return trunc();
        s += ` keyid ${b[o]} rnextkeyid ${b[o + 1]}`;
        if (datalen > 2) {
          s += ' mac 0x';
          for (let i = 2; i < datalen; i++) s += hex2(b[o + i]!);
        }
        break;
      }
      case 30: {
        datalen = olen - 2;
        const c = check(datalen);
        if (c === false) return bad();
        if (c === null) return trunc();
        s += ` ${olen} ${datalen > 0 ? (MPTCP_SUBTYPES[b[o]! >> 4] ?? 'unknown') : ''}`;
        break;
      }
      case 34:
      case 254: {
        datalen = olen - 2;
        const c = check(datalen);
        if (c === false) return bad();
        if (c === null) return trunc();
        let d = o;
        let n = datalen;
        if (opt === 254) {
          if (datalen < 2) return bad();
          const magic = b.readUInt16BE(o);
          if (magic !== 0xf989) {
            s += `-${hex4(magic)}`;
            break;
          }
          s += '-tfo';
          d += 2;
          n -= 2;
        } else s += ' ';
        if (n === 0) s += ' cookiereq';
        else if (n % 2 !== 0 || n < 4 || n > 16) s += ' invalid';
        else {
          s += ' cookie ';
          for (let i = 0; i < n; i++) s += hex2(b[d + i]!);
        }
        break;
      }
      default: {
        datalen = olen - 2;
        if (datalen) s += ' 0x';
        for (let i = 0; i < datalen; i++) {
          const c = check(i + 1);
          if (c === false) return bad();
          if (c === null) return trunc();
          s += hex2(b[o + i]!);
        }
      }
    }
    o += datalen;
    hl -= datalen;
    if (datalen + (opt > 1 ? 2 : 1) !== olen) s += `[len ${olen}]`;
    first = false;
    if (opt === 0) break;
  }
  return { text: s + ']', stop: false };
}
