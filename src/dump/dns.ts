/**
 * DNS as tcpdump prints it without -v (UDP/TCP port 53, mDNS on 5353): queries
 * `ID[op][+][%] [flags] TYPE? name. (LEN)`, responses `ID[op][rcode][*][-][|] an/ns/ar RR, RR (LEN)`
 * with A, AAAA, CNAME/NS/PTR/DNAME, MX, TXT, SRV data (other types by name only), names with
 * tcpdump's escapes (`M-x`, `^X`, `<BAD PTR>`), and ` [|domain]` where the message is cut short.
 * Written from tcpdump 4.99's observable output and checked against it (test/dump-format.test.ts).
 */
import { formatIpv4, formatIpv6Tcpdump } from '../net/ip-text.js';

const TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  3: 'MD',
  4: 'MF',
  5: 'CNAME',
  6: 'SOA',
  7: 'MB',
  8: 'MG',
  9: 'MR',
  10: 'NULL',
  11: 'WKS',
  12: 'PTR',
  13: 'HINFO',
  14: 'MINFO',
  15: 'MX',
  16: 'TXT',
  17: 'RP',
  18: 'AFSDB',
  19: 'X25',
  20: 'ISDN',
  21: 'RT',
  22: 'NSAP',
  23: 'NSAP_PTR',
  24: 'SIG',
  25: 'KEY',
  26: 'PX',
  27: 'GPOS',
  28: 'AAAA',
  29: 'LOC',
  30: 'NXT',
  31: 'EID',
  32: 'NIMLOC',
  33: 'SRV',
  34: 'ATMA',
  35: 'NAPTR',
  36: 'KX',
  37: 'CERT',
  38: 'A6',
  39: 'DNAME',
  40: 'SINK',
  41: 'OPT',
  42: 'APL',
  43: 'DS',
  44: 'SSHFP',
  45: 'IPSECKEY',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  99: 'SPF',
  100: 'UINFO',
  101: 'UID',
  102: 'GID',
  103: 'UNSPEC',
  104: 'UNSPECA',
  249: 'TKEY',
  250: 'TSIG',
  251: 'IXFR',
  252: 'AXFR',
  253: 'MAILB',
  254: 'MAILA',
  255: 'ANY',
  256: 'URI',
};
const CLASSES: Record<number, string> = { 1: 'IN', 3: 'CHAOS', 4: 'HS', 255: 'ANY' };
const OPS = [
  '',
  ' inv_q',
  ' stat',
  ' op3',
  ' notify',
  ' update',
  ' op6',
  ' op7',
  ' op8',
  ' updateA',
  ' updateD',
  ' updateDA',
  ' updateM',
  ' updateMA',
  ' zoneInit',
  ' zoneRef',
];
const RCODES = [
  '',
  ' FormErr',
  ' ServFail',
  ' NXDomain',
  ' NotImp',
  ' Refused',
  ' YXDomain',
  ' YXRRSet',
  ' NXRRSet',
  ' NotAuth',
  ' NotZone',
  ' Resp11',
  ' Resp12',
  ' Resp13',
  ' Resp14',
  ' NoChange',
];

const typeName = (t: number): string => TYPES[t] ?? `Type${t}`;
const className = (c: number): string => CLASSES[c] ?? `(Class ${c})`;

/** Reading past the captured bytes: tcpdump stops there with ` [|domain]`. */
class Truncated extends Error {}

/** One character the way tcpdump prints untrusted text: `M-` for the high bit, `^X` for controls. */
function printChar(c: number): string {
  let s = '';
  if (c > 0x7f) {
    c &= 0x7f;
    s = 'M-';
  }
  if (c < 0x20 || c === 0x7f) {
    c ^= 0x40;
    s += '^';
  }
  return s + String.fromCharCode(c);
}

class Reader {
  out = '';
  constructor(
    readonly b: Uint8Array,
    readonly base: number,
    readonly avail: number,
  ) {}

  u8(at: number): number {
    if (at < 0 || at >= this.avail) throw new Truncated();
    return this.b[this.base + at]!;
  }

  u16(at: number): number {
    return (this.u8(at) << 8) | this.u8(at + 1);
  }

  u32(at: number): number {
    return this.u16(at) * 65536 + this.u16(at + 2);
  }

  need(at: number, n: number): void {
    if (at + n > this.avail) throw new Truncated();
  }

  /** The offset after a name, without printing it; null for a label type tcpdump rejects. */
  skipName(at: number): number | null {
    let i = this.u8(at++);
    while (i !== 0 && at < this.avail) {
      if ((i & 0xc0) === 0xc0) return at + 1;
      if ((i & 0xc0) === 0x40) {
        if ((i & 0x3f) !== 1) return null;
        let bits = this.u8(at);
        if (bits === 0) bits = 256;
        at += Math.floor((bits + 7) / 8) + 1;
      } else at += i;
      i = this.u8(at++);
    }
    return at;
  }

  /** Prints a name (`example.com.`, `.` for the root); false after `<BAD PTR>` and the like. */
  name(at: number): boolean {
    let maxOffset = at;
    let steps = 0;
    let i = this.u8(at);
    if (i === 0) {
      this.out += '.';
      return true;
    }
    while (i !== 0) {
      if (++steps > 255) {
        this.out += '<LOOP>';
        return false;
      }
      if ((i & 0xc0) === 0xc0) {
        const ptr = ((i & 0x3f) << 8) | this.u8(at + 1);
        if (ptr >= maxOffset) {
          this.out += '<BAD PTR>';
          return false;
        }
        maxOffset = ptr;
        at = ptr;
        i = this.u8(at);
        continue;
      }
      if ((i & 0xc0) !== 0) {
        this.out += (i & 0xc0) === 0x40 ? `<ELT ${i & 0x3f}>` : '<BAD LABEL>';
        return false;
      }
      this.need(at + 1, i);
      for (let k = 0; k < i; k++) this.out += printChar(this.u8(at + 1 + k));
      this.out += '.';
      at += i + 1;
      i = this.u8(at);
    }
    return true;
  }

  question(at: number, mdns: boolean): number | null {
    const after = this.skipName(at);
    if (after === null) throw new Truncated();
    const type = this.u16(after);
    let cls = this.u16(after + 2);
    const qu = mdns && (cls & 0x8000) !== 0;
    if (mdns) cls &= 0x7fff;
    this.out += cls === 1 ? ` ${typeName(type)}` : ` ${typeName(type)} ${className(cls)}`;
    if (mdns) this.out += qu ? ' (QU)' : ' (QM)';
    this.out += '? ';
    if (!this.name(at)) return null;
    return after + 4;
  }

  record(at: number, mdns: boolean): number | null {
    const p = this.skipName(at);
    if (p === null) throw new Truncated();
    const type = this.u16(p);
    let cls = this.u16(p + 2);
    const ttl = this.u32(p + 4);
    const len = this.u16(p + 8);
    const d = p + 10;
    const end = d + len;
    if (mdns && cls & 0x8000) {
      cls &= 0x7fff;
      this.out += ' (Cache flush)';
    }
    if (cls !== 1 && type !== 41) this.out += ` ${className(cls)}`;
    this.out += ` ${typeName(type)}`;
    switch (type) {
      case 1:
        this.need(d, 4);
        this.out += ` ${formatIpv4(this.b, this.base + d)}`;
        break;
      case 28:
        this.need(d, 16);
        this.out += ` ${formatIpv6Tcpdump(this.b, this.base + d)}`;
        break;
      case 2:
      case 5:
      case 12:
      case 39:
        this.out += ' ';
        if (!this.name(d)) return null;
        break;
      case 15:
        this.out += ' ';
        if (!this.name(d + 2)) return null;
        this.out += ` ${this.u16(d)}`;
        break;
      case 16:
        for (let q = d; q < end;) {
          const n = this.u8(q++);
          this.need(q, n);
          this.out += ' "';
          for (let k = 0; k < n; k++) this.out += printChar(this.u8(q + k));
          this.out += '"';
          q += n;
        }
        break;
      case 33:
        this.out += ' ';
        if (!this.name(d + 6)) return null;
        this.out += `:${this.u16(d + 4)} ${this.u16(d)} ${this.u16(d + 2)}`;
        break;
      case 41:
        this.out += ` UDPsize=${cls}${ttl & 0x8000 ? ' DO' : ''}`;
        break;
      default:
        break;
    }
    return end;
  }
}

/** The text tcpdump prints for a DNS message of `len` bytes at buf[off], `avail` of them captured. */
export function dnsText(buf: Uint8Array, off: number, avail: number, len: number, mdns: boolean): string {
  if (len < 12) return `domain [length ${len} < 12] (invalid)`;
  const r = new Reader(buf, off, Math.min(avail, len));
  try {
    const id = r.u16(0);
    const flags = r.u16(2);
    const qd = r.u16(4);
    const an = r.u16(6);
    const ns = r.u16(8);
    const ar = r.u16(10);
    const op = OPS[(flags >> 11) & 15]!;
    let at = 12;
    if (flags & 0x8000) {
      r.out = `${id}${op}${RCODES[flags & 15]}${flags & 0x0400 ? '*' : ''}${flags & 0x0080 ? '' : '-'}${flags & 0x0200 ? '|' : ''}`;
      if (qd !== 1) r.out += ` [${qd}q]`;
      for (let i = 0; i < qd; i++) {
        const after = r.skipName(at);
        if (after === null) throw new Truncated();
        at = after + 4;
      }
      r.out += ` ${an}/${ns}/${ar}`;
      let left = an;
      if (left > 0) {
        const next = r.record(at, mdns);
        if (next === null) throw new Truncated();
        at = next;
        left--;
        while (at < r.avail && left > 0) {
          r.out += ',';
          const n = r.record(at, mdns);
          if (n === null) throw new Truncated();
          at = n;
          left--;
        }
      }
      if (left > 0) throw new Truncated();
    } else {
      r.out = `${id}${op}${flags & 0x0100 ? '+' : ''}${flags & 0x0010 ? '%' : ''}`;
      if (flags & 0x6cf) r.out += ` [b2&3=0x${flags.toString(16)}]`;
      if (((flags >> 11) & 15) === 1) {
        if (qd) r.out += ` [${qd}q]`;
        if (an !== 1) r.out += ` [${an}a]`;
      } else {
        if (an) r.out += ` [${an}a]`;
        if (qd !== 1) r.out += ` [${qd}q]`;
      }
      if (ns) r.out += ` [${ns}n]`;
      if (ar) r.out += ` [${ar}au]`;
      let left = qd;
      if (left > 0) {
        const next = r.question(at, mdns);
        if (next === null) throw new Truncated();
        at = next;
        left--;
        while (at < r.avail && left > 0) {
          const n = r.question(at, mdns);
          if (n === null) throw new Truncated();
          at = n;
          left--;
        }
      }
      if (left > 0) throw new Truncated();
    }
    return `${r.out} (${len})`;
  } catch (e) {
    if (e instanceof Truncated) return `${r.out} [|domain]`;
    throw e;
  }
}
