/**
 * One line per packet in tcpdump's `-nn` format (no `-v`, no `-e`), written from tcpdump 4.99's
 * observable output and checked line for line against it (test/dump-format.test.ts): link layers
 * Ethernet (VLAN tags skipped, as tcpdump does without -e), Linux cooked v1/v2 (v2 with tcpdump's
 * interface/direction prefix), BSD loopback, raw IP; IPv4 and IPv6 (extension headers, fragments,
 * truncation notes); TCP in full (flags, relative sequence numbers, options, the first-line text
 * tcpdump adds for SMTP on port 25, FTP, WHOIS, HTTP, RTSP), UDP, DNS (53, mDNS 5353, TCP 53),
 * ICMP, ICMPv6, ARP. Its other application decoders (NTP, DHCP, BGP, …) are not reproduced: such
 * packets end at `UDP, length N` / `length N`, and protocols unknown here get tcpdump's generic
 * forms (`ip-proto-N`, hex dumps).
 */
import type { PacketRecord } from '../source/packet-record.js';
import { RelativeSeq } from './tcp-seq.js';
import { dnsText } from './dns.js';
import { tcpdumpText, textProtoFor } from './tcpdump-text.js';
import { hex2, hex4, hexAsciiLines, ipv4Text, ipv6Text, macText } from './text.js';
import { interfaceName } from './ifnames.js';

export interface PrinterOptions {
  /** `-S`: absolute TCP sequence numbers. */
  absoluteSeq: boolean;
  /** -X given: tcpdump then leaves out its default hex dump of payloads it cannot decode. */
  suppressDefaultDump?: boolean;
  /** `--redact`: no payload text after `length N` (tcpdump's port-25 line may be a base64 password). */
  noPayloadText?: boolean;
}

const FLAG_CHARS: [number, string][] = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W']];
const FLAG_TEXT: string[] = Array.from({ length: 256 }, (_, f) => {
  let s = '';
  for (const [bit, c] of FLAG_CHARS) if (f & bit) s += c;
  return s || 'none';
});

const TCP_OPT_NAMES: Record<number, string> = {
  0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 6: 'echo', 7: 'echoreply', 8: 'TS', 11: 'cc', 12: 'ccnew',
  13: '', 19: 'md5', 20: 'scps', 28: 'uto', 29: 'tcp-ao', 30: 'mptcp', 34: 'tfo', 254: 'exp',
};
const MPTCP_SUBTYPES = ['capable', 'join', 'dss', 'add-addr', 'rem-addr', 'prio', 'fail', 'fast-close', 'tcprst'];

const ETHER_NAMES: Record<number, string> = {
  0x88cc: 'LLDP', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S', 0x888e: 'EAPOL', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast',
  0x88e5: 'MACsec', 0x88f7: 'PTP', 0x8906: 'FCoE', 0x0842: 'Wake-on-LAN', 0x9000: 'Loopback', 0x88b5: 'Local Experimental',
};

const SLL_TYPES = ['In', 'B', 'M', 'P', 'Out'];

const UNREACH_IP: Record<number, string> = {
  5: '%s unreachable - source route failed', 6: 'net %s unreachable - unknown', 7: 'host %s unreachable - unknown',
  8: '%s unreachable - source host isolated', 9: 'net %s unreachable - admin prohibited', 10: 'host %s unreachable - admin prohibited',
  11: 'net %s unreachable - tos prohibited', 12: 'host %s unreachable - tos prohibited', 13: 'host %s unreachable - admin prohibited filter',
  14: 'host %s unreachable - host precedence violation', 15: 'host %s unreachable - precedence cutoff',
};

const ICMP6_SIMPLE: Record<number, string> = {
  133: 'router solicitation', 134: 'router advertisement', 141: 'inverse neighbor solicitation', 142: 'inverse neighbor advertisement',
  144: 'ha discovery request', 145: 'ha discovery reply', 146: 'mobile router solicitation', 147: 'mobile router advertisement',
};

/** ICMPv6 types tcpdump decodes in ways not reproduced here (node information, mtrace, …). */
const ICMP6_KNOWN = new Set([138, 139, 140, 148, 149, 150, 151, 152, 153, 200, 201]);

export class PacketPrinter {
  private readonly rel = new RelativeSeq();
  /**
   * After print(): offset in the record's buffer where -A/-X start: the link layer's payload, or
   * the frame itself when tcpdump's printer stopped at a field it could not read (its hdrlen is
   * then lost), -1 when there is nothing to dump.
   */
  payloadOff = -1;
  private frameOff = 0;
  // the packet being printed
  private buf: Buffer = Buffer.alloc(0);
  private end = 0;

  constructor(private readonly opts: PrinterOptions = { absoluteSeq: false }) {}

  /** tcpdump's default dump of undecoded bytes (left out with -X). */
  private dump(start: number, end: number, withAscii = true): string {
    return this.opts.suppressDefaultDump ? '' : hexAsciiLines(this.buf, start, end, withAscii);
  }

  /** A truncation where tcpdump's printer long-jumps out: -A/-X then dump the whole frame. */
  private cut<T>(text: T): T {
    this.payloadOff = this.frameOff;
    return text;
  }

  /** The text after the time stamp (without a newline; unknown types add tcpdump's hex lines). */
  print(rec: PacketRecord): string {
    const buf = rec.buf;
    const off = rec.off;
    this.buf = buf;
    this.end = off + rec.caplen;
    this.payloadOff = -1;
    this.frameOff = off;
    const caplen = rec.caplen;
    const wire = rec.origlen;
    switch (rec.linktype) {
      case 1: return this.ether(off, wire);
      case 113: return this.sll(off, wire);
      case 276: return this.sll2(off, wire);
      case 0: case 108: {
        if (caplen < 4) return this.cut(' [|null]');
        let af = rec.linktype === 0 ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
        if (rec.linktype === 0 && af & 0xffff0000) af = buf.readUInt32BE(off);
        this.payloadOff = off + 4;
        if (af === 2) return this.ip4(off + 4, wire - 4);
        if (af === 24 || af === 28 || af === 30) return this.ip6(off + 4, wire - 4);
        return `AF Unknown (${af}), length ${wire}: ` + this.dump(off + 4, this.end);
      }
      case 101: case 12: case 14: case 228: case 229: {
        this.payloadOff = off;
        if (caplen < 1) return ' [|ip]';
        const v = buf[off]! >> 4;
        if (v === 4) return this.ip4(off, wire);
        if (v === 6) return this.ip6(off, wire);
        return `unknown ip ${v}`;
      }
      default:
        this.payloadOff = off;
        return 'UNSUPPORTED' + hexAsciiLines(buf, off, this.end);
    }
  }

  // ------------------------------------------------------------------ link layers

  private ether(off: number, wire: number): string {
    const b = this.buf;
    if (this.end - off < 14) return ' [|ether]';
    let p = off + 12;
    let etype = (b[p]! << 8) | b[p + 1]!;
    p += 2;
    while (etype === 0x8100 || etype === 0x88a8 || etype === 0x9100) {
      if (this.end - p < 4) return ' [|vlan]';
      etype = (b[p + 2]! << 8) | b[p + 3]!;
      p += 4;
    }
    this.payloadOff = p;
    const rest = wire - (p - off);
    const generic = (): string => {
      const name = etype < 0x600 ? '802.3' : `ethertype ${ETHER_NAMES[etype] ?? 'Unknown'} (0x${hex4(etype)})`;
      return `${macText(b, off + 6)} > ${macText(b, off)}, ${name}, length ${wire}: ` + this.dump(p, this.end);
    };
    return this.network(etype, p, rest, generic);
  }

  private sll(off: number, wire: number): string {
    const b = this.buf;
    if (this.end - off < 16) return this.cut(' [|sll]');
    let p = off + 16;
    let etype = (b[off + 14]! << 8) | b[off + 15]!;
    while (etype === 0x8100 || etype === 0x88a8) {
      if (this.end - p < 4) return ' [|vlan]';
      etype = (b[p + 2]! << 8) | b[p + 3]!;
      p += 4;
    }
    this.payloadOff = p;
    const generic = (): string => {
      const pt = SLL_TYPES[(b[off]! << 8) | b[off + 1]!] ?? '?';
      const alen = Math.min((b[off + 4]! << 8) | b[off + 5]!, 8);
      return `${pt.padStart(3)} ${macText(b, off + 6, alen)} ethertype ${ETHER_NAMES[etype] ?? 'Unknown'} (0x${hex4(etype)}), length ${wire}: ` +
        this.dump(p, this.end);
    };
    return this.network(etype, p, wire - (p - off), generic);
  }

  private sll2(off: number, wire: number): string {
    const b = this.buf;
    if (this.end - off < 20) return this.cut(' [|sll2]');
    const etype = (b[off]! << 8) | b[off + 1]!;
    const ifindex = b.readUInt32BE(off + 4);
    const pt = SLL_TYPES[b[off + 10]!] ?? '?';
    const prefix = `${interfaceName(ifindex).padEnd(5)} ${pt.padEnd(3)} `;
    const p = off + 20;
    this.payloadOff = p;
    const generic = (): string => {
      const alen = Math.min(b[off + 11]!, 8);
      return `ifindex ${ifindex} ${macText(b, off + 12, alen)} ethertype ${ETHER_NAMES[etype] ?? 'Unknown'} (0x${hex4(etype)}), length ${wire}: ` +
        this.dump(p, this.end);
    };
    return prefix + this.network(etype, p, wire - 20, generic);
  }

  private network(etype: number, p: number, wire: number, generic: () => string): string {
    switch (etype) {
      case 0x0800: return this.ip4(p, wire);
      case 0x86dd: return this.ip6(p, wire);
      case 0x0806: case 0x8035: return this.arp(p, wire);
      default: return generic();
    }
  }

  // ------------------------------------------------------------------ ARP

  private arp(p: number, wire: number): string {
    const b = this.buf;
    const avail = this.end - p;
    if (avail < 8) return this.cut(' [|arp]');
    const pro = (b[p + 2]! << 8) | b[p + 3]!;
    const hln = b[p + 4]!;
    const pln = b[p + 5]!;
    const op = (b[p + 6]! << 8) | b[p + 7]!;
    if (pro !== 0x0800 || hln !== 6 || pln !== 4) {
      return `ARP, hardware type ${(b[p]! << 8) | b[p + 1]!}, protocol 0x${hex4(pro)}, op ${op}, length ${wire}`;
    }
    if (avail < 28) return this.cut(' [|arp]');
    const sha = macText(b, p + 8);
    const spa = ipv4Text(b, p + 14);
    const thaZero = b.readUInt32BE(p + 18) === 0 && b.readUInt16BE(p + 22) === 0;
    const tha = macText(b, p + 18);
    const tpa = ipv4Text(b, p + 24);
    switch (op) {
      case 1: return `ARP, Request who-has ${tpa}${thaZero ? '' : ` (${tha})`} tell ${spa}, length ${wire}`;
      case 2: return `ARP, Reply ${spa} is-at ${sha}, length ${wire}`;
      case 3: return `ARP, Reverse Request who-is ${tha} tell ${sha}, length ${wire}`;
      case 4: return `ARP, Reverse Reply ${tha} at ${tpa}, length ${wire}`;
      case 8: return `ARP, Inverse Request who-is ${tha} tell ${sha}, length ${wire}`;
      case 9: return `ARP, Inverse Reply ${sha} at ${spa}, length ${wire}`;
      default: return `ARP, Unknown (${op}) ` + hexAsciiLines(b, p, Math.min(this.end, p + 28));
    }
  }

  // ------------------------------------------------------------------ IPv4

  private ip4(p: number, wire: number): string {
    const b = this.buf;
    if (this.end - p < 1) return ' [|ip]';
    const v = b[p]! >> 4;
    if (v !== 4) return v === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${v} (invalid)`;
    if (this.end - p < 20) return 'IP  [|ip]';
    const hlen = (b[p]! & 0x0f) * 4;
    const ipLen = (b[p + 2]! << 8) | b[p + 3]!;
    if (hlen < 20) return `IP bad-hlen ${hlen}`;
    if (ipLen < hlen) return `IP bad-len ${ipLen}`;
    let s = 'IP ';
    if (wire < ipLen) s += `truncated-ip - ${ipLen - wire} bytes missing! `;
    if (this.end - p < hlen) return s + ' [|ip]';
    const frag = (b[p + 6]! << 8) | b[p + 7]!;
    const proto = b[p + 9]!;
    const src = ipv4Text(b, p + 12);
    const dst = ipv4Text(b, p + 16);
    const capEnd = Math.min(this.end, p + ipLen);
    const len = ipLen - hlen;
    const t = p + hlen;
    if (frag & 0x1fff) return s + `${src} > ${dst}: ip-proto-${proto}`;
    const key = (): [string, string] => [b.toString('latin1', p + 12, p + 16), b.toString('latin1', p + 16, p + 20)];
    switch (proto) {
      case 6: return s + this.tcp(t, capEnd, len, src, dst, true, key);
      case 17: return s + this.udp(t, capEnd, len, src, dst, true);
      case 1: return s + `${src} > ${dst}: ` + this.icmp(t, capEnd, len);
      case 4: return s + `${src} > ${dst}: ` + this.sub(() => this.ip4(t, len), capEnd);
      case 41: return s + `${src} > ${dst}: ` + this.sub(() => this.ip6(t, len), capEnd);
      case 58: return s + `${src} > ${dst}: [ICMPv6 requires IPv6] (invalid)`;
      default: return s + `${src} > ${dst}:  ip-proto-${proto} ${len}`;
    }
  }

  /** Runs an inner printer with the captured end cut to the outer packet's end. */
  private sub(f: () => string, capEnd: number): string {
    const saved = this.end;
    this.end = capEnd;
    try {
      return f();
    } finally {
      this.end = saved;
    }
  }

  // ------------------------------------------------------------------ IPv6

  private ip6(p: number, wire: number): string {
    const b = this.buf;
    if (this.end - p < 40) return ' [|ip6]';
    const v = b[p]! >> 4;
    if (v !== 6) return v === 4 ? 'IP, wrong link-layer encapsulation (invalid)' : `IP6 version ${v} (invalid)`;
    const plen = (b[p + 4]! << 8) | b[p + 5]!;
    let nh = b[p + 6]!;
    let s = 'IP6 ';
    if (wire < 40 + plen) s += `truncated-ip6 - ${40 + plen - wire} bytes missing!`;
    const src = ipv6Text(b, p + 8);
    const dst = ipv6Text(b, p + 24);
    const capEnd = Math.min(this.end, p + 40 + plen);
    let q = p + 40;
    let len = plen;
    let ext = '';
    const key = (): [string, string] => [b.toString('latin1', p + 8, p + 24), b.toString('latin1', p + 24, p + 40)];
    for (let hops = 0; hops < 16; hops++) {
      switch (nh) {
        case 6: return s + (ext ? `${src} > ${dst}: ${ext}` : '') + this.tcp(q, capEnd, len, src, dst, ext === '', key);
        case 17: return s + (ext ? `${src} > ${dst}: ${ext}` : '') + this.udp(q, capEnd, len, src, dst, ext === '');
        case 58: return s + `${src} > ${dst}: ${ext}` + this.icmp6(q, capEnd, len);
        case 59: return s + `${src} > ${dst}: ${ext}no next header`;
        case 0: case 60: case 43: {
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
              for (let a = q + 8, i = 0; a + 16 <= Math.min(capEnd, q + hl); a += 16, i++) r += `, [${i}]${ipv6Text(b, a)}`;
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

  // ------------------------------------------------------------------ TCP

  private tcp(t: number, capEnd: number, len: number, src: string, dst: string, addrs: boolean, key: () => [string, string]): string {
    const b = this.buf;
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
    const rel = this.rel;
    let useRel = false;
    if (!this.opts.absoluteSeq && flags & 0x10) {
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
      const o = this.tcpOptions(t + 20, hlen - 20, capEnd, useRel);
      s += o.text;
      if (o.stop) return s;
    }
    s += `, length ${plen}`;
    const proto = plen > 0 && !this.opts.noPayloadText ? textProtoFor(sport, dport) : null;
    if (proto) {
      const po = t + hlen;
      const r = tcpdumpText(proto, b, po, Math.max(0, Math.min(capEnd - po, plen)), plen);
      if (r.cut) this.cut(null);
      s += r.text;
    } else if (plen > 0 && (sport === 53 || dport === 53) && !this.opts.noPayloadText) {
      s += this.dnsOverTcp(t + hlen, capEnd, plen);
    }
    return s;
  }

  /** DNS over TCP: the two-byte length, then the message. */
  private dnsOverTcp(po: number, capEnd: number, plen: number): string {
    const b = this.buf;
    if (plen < 2) return ` [DNS over TCP: length ${plen} < 2] (invalid)`;
    if (capEnd - po < 2) return ' [|domain]';
    const prefix = (b[po]! << 8) | b[po + 1]!;
    if (prefix !== plen - 2) return ` [prefix length(${prefix}) != length(${plen - 2})] (invalid)`;
    return ' ' + dnsText(b, po + 2, Math.max(0, capEnd - (po + 2)), plen - 2, false);
  }

  private tcpOptions(o: number, hl: number, capEnd: number, useRel: boolean): { text: string; stop: boolean } {
    const b = this.buf;
    let s = ', options [';
    let first = true;
    const trunc = (): { text: string; stop: boolean } => ({ text: s + ' [|tcp]' + (first ? '' : '>'), stop: true });
    while (hl > 0) {
      if (!first) s += ',';
      if (o >= capEnd) return this.cut({ text: s + ' [|tcp]', stop: true });
      const opt = b[o++]!;
      let olen = 1;
      if (opt > 1) {
        if (o >= capEnd) return this.cut({ text: s + ' [|tcp]', stop: true });
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
        case 0: case 1: case 4: break;
        case 2: case 3: case 6: case 7: case 11: case 12: case 13: case 8: case 20: case 28: {
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
              const base = this.rel.rev ? this.rel.thSeq : this.rel.thAck;
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
        case 34: case 254: {
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

  // ------------------------------------------------------------------ UDP

  private udp(u: number, capEnd: number, len: number, src: string, dst: string, addrs: boolean): string {
    const b = this.buf;
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
    if (!this.opts.noPayloadText && (sport === 53 || dport === 53 || sport === 5353 || dport === 5353)) {
      const mdns = sport !== 53 && dport !== 53;
      return head + dnsText(b, u + 8, Math.max(0, capEnd - (u + 8)), ulen, mdns);
    }
    return head + `UDP, length ${ulen}`;
  }

  // ------------------------------------------------------------------ ICMP

  private icmp(c: number, capEnd: number, len: number): string {
    const b = this.buf;
    const avail = capEnd - c;
    const trunc = ' [|icmp]';
    if (avail < 2) return this.cut(trunc);
    const type = b[c]!;
    const code = b[c + 1]!;
    const inner = (): { dst: string; proto: number; dport: number | null } | null => {
      const ip = c + 8;
      if (capEnd - ip < 20) return null;
      const ihl = (b[ip]! & 0x0f) * 4;
      const dport = capEnd - (ip + ihl) >= 4 ? (b[ip + ihl + 2]! << 8) | b[ip + ihl + 3]! : null;
      return { dst: ipv4Text(b, ip + 16), proto: b[ip + 9]!, dport };
    };
    let text: string;
    switch (type) {
      case 0: case 8:
        if (avail < 8) return this.cut(trunc);
        text = `echo ${type === 8 ? 'request' : 'reply'}, id ${b.readUInt16BE(c + 4)}, seq ${b.readUInt16BE(c + 6)}`;
        break;
      case 3: {
        const ip = inner();
        if (!ip) return trunc;
        switch (code) {
          case 0: text = `net ${ip.dst} unreachable`; break;
          case 1: text = `host ${ip.dst} unreachable`; break;
          case 2: text = `${ip.dst} protocol ${ip.proto} unreachable`; break;
          case 3:
            if (ip.dport === null) return trunc;
            text = ip.proto === 6 ? `${ip.dst} tcp port ${ip.dport} unreachable`
              : ip.proto === 17 ? `${ip.dst} udp port ${ip.dport} unreachable`
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
        const gw = ipv4Text(b, c + 4);
        text = code === 0 ? `redirect ${ip.dst} to net ${gw}` : code === 1 ? `redirect ${ip.dst} to host ${gw}`
          : code === 2 ? `redirect-tos ${ip.dst} to net ${gw}` : code === 3 ? `redirect-tos ${ip.dst} to host ${gw}`
            : `redirect-#${code} ${ip.dst} to ${gw}`;
        break;
      }
      case 11:
        text = code === 0 ? 'time exceeded in-transit' : code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${code}`;
        break;
      case 4: text = 'source quench'; break;
      case 10: text = 'router solicitation'; break;
      case 12:
        if (avail < 5) return trunc;
        text = `parameter problem - octet ${b[c + 4]}`;
        break;
      case 13: case 14: {
        if (avail < 8) return trunc;
        text = `time stamp ${type === 13 ? 'query' : 'reply'} id ${b.readUInt16BE(c + 4)} seq ${b.readUInt16BE(c + 6)}`;
        if (type === 14) {
          if (avail < 20) return trunc;
          text += `: org ${msTime(b.readUInt32BE(c + 8))}, recv ${msTime(b.readUInt32BE(c + 12))}, xmit ${msTime(b.readUInt32BE(c + 16))}`;
        }
        break;
      }
      case 15: text = 'information request'; break;
      case 16: text = 'information reply'; break;
      case 17: text = 'address mask request'; break;
      case 18:
        if (avail < 12) return trunc;
        text = `address mask is 0x${b.readUInt32BE(c + 8).toString(16).padStart(8, '0')}`;
        break;
      default: text = `type-#${type}`;
    }
    return `ICMP ${text}, length ${len}`;
  }

  private icmp6(c: number, capEnd: number, len: number): string {
    const b = this.buf;
    const avail = capEnd - c;
    const trunc = ' [|icmp6]';
    if (avail < 4) return trunc;
    const type = b[c]!;
    const code = b[c + 1]!;
    const innerDst = (): string | null => (capEnd - (c + 8) >= 40 ? ipv6Text(b, c + 8 + 24) : null);
    let text: string;
    switch (type) {
      case 1: {
        const dst = innerDst();
        if (dst === null) return trunc;
        switch (code) {
          case 0: text = `destination unreachable, unreachable route ${dst}`; break;
          case 1: text = `destination unreachable,  unreachable prohibited ${dst}`; break;
          case 2: text = `destination unreachable, beyond scope ${dst}, source address ${ipv6Text(b, c + 8 + 8)}`; break;
          case 3: text = `destination unreachable, unreachable address ${dst}`; break;
          case 4: {
            const ip = c + 8;
            const nh = b[ip + 6]!;
            const t = ip + 40;
            if (capEnd - t < 4) return trunc;
            const dport = (b[t + 2]! << 8) | b[t + 3]!;
            text = `destination unreachable, unreachable port, ${dst} ` +
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
      case 128: case 129:
        if (avail < 8) return trunc;
        text = `echo ${type === 128 ? 'request' : 'reply'}, id ${b.readUInt16BE(c + 4)}, seq ${b.readUInt16BE(c + 6)}`;
        break;
      case 130:
        if (len >= 28) {
          if (avail < 24) return trunc;
          text = `multicast listener query v2 [gaddr ${ipv6Text(b, c + 8)}]`;
        } else {
          if (avail < 24) return trunc;
          text = `multicast listener querymax resp delay: ${b.readUInt16BE(c + 4)} addr: ${ipv6Text(b, c + 8)}`;
        }
        break;
      case 131: case 132:
        if (avail < 24) return trunc;
        text = `multicast listener ${type === 131 ? 'report' : 'done'}max resp delay: ${b.readUInt16BE(c + 4)} addr: ${ipv6Text(b, c + 8)}`;
        break;
      case 135: case 136:
        if (avail < 24) return trunc;
        text = type === 135 ? `neighbor solicitation, who has ${ipv6Text(b, c + 8)}` : `neighbor advertisement, tgt is ${ipv6Text(b, c + 8)}`;
        break;
      case 137:
        if (avail < 40) return trunc;
        text = `redirect, ${ipv6Text(b, c + 24)} to ${ipv6Text(b, c + 8)}`;
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
}

/** Milliseconds since midnight UTC as tcpdump prints ICMP time stamps. */
function msTime(ms: number): string {
  const h = Math.floor(ms / 3_600_000) % 24;
  const m = Math.floor(ms / 60_000) % 60;
  const sec = Math.floor(ms / 1000) % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}
