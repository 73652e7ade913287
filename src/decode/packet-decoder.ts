import { u32be } from '../source/record-parsers.js';

/**
 * Link → IP → TCP decoding into one reused object (no allocation per packet). Anything that is not
 * a TCP segment we can place is counted under a skip reason and left alone.
 */

export const SkipReason = {
  unknownLinktype: 0,
  notIp: 1,
  notTcp: 2,
  ipFragment: 3,
  truncated: 4,
  badHeader: 5,
  notSmtpPort: 6,
  /** A capture time outside 1970..9999 (see tsInRange). */
  badTimestamp: 7,
} as const;
export type SkipReasonName = keyof typeof SkipReason;
export const skipReasonNames = Object.keys(SkipReason) as SkipReasonName[];

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

export class PacketDecoder {
  /** Counters indexed by SkipReason. */
  readonly skipped = new Float64Array(skipReasonNames.length);

  // --- the decoded packet (valid after decode() returned true) ---
  buf: Buffer = Buffer.alloc(0);
  ipVersion = 0;
  /** Offsets of the source/destination address bytes in `buf` (4 or 16 bytes). */
  srcOff = 0;
  dstOff = 0;
  /** IPv4 addresses as unsigned 32-bit numbers (IPv4 only). */
  src4 = 0;
  dst4 = 0;
  ipLen = 0;
  tos = 0;
  ttl = 0;
  ipId = 0;
  df = false;
  flowLabel = 0;
  sport = 0;
  dport = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  /** Payload bytes present in the capture: buf[payloadOff, payloadOff + payloadLen). */
  payloadOff = 0;
  payloadLen = 0;
  /** Payload bytes the segment carried on the wire (> payloadLen when the snapshot cut it). */
  segLen = 0;
  /** Outermost 802.1Q VLAN id, or -1. */
  vlan = -1;

  /** Decodes a frame; false (and one skip counted) when it is not a TCP segment we can use. */
  decode(linktype: number, buf: Buffer, off: number, caplen: number): boolean {
    const end = off + caplen;
    this.buf = buf;
    this.vlan = -1;
    let etype: number;
    let p: number;
    switch (linktype) {
      case 1: { // EN10MB
        if (caplen < 14) return this.skip(SkipReason.truncated);
        p = off + 12;
        etype = (buf[p]! << 8) | buf[p + 1]!;
        p += 2;
        // 802.1Q, 802.1ad (QinQ) and the old 0x9100 tag: skip 4 bytes each.
        while (etype === 0x8100 || etype === 0x88a8 || etype === 0x9100) {
          if (p + 4 > end) return this.skip(SkipReason.truncated);
          if (this.vlan < 0) this.vlan = ((buf[p]! << 8) | buf[p + 1]!) & 0x0fff;
          etype = (buf[p + 2]! << 8) | buf[p + 3]!;
          p += 4;
        }
        break;
      }
      case 113: // LINUX_SLL
        if (caplen < 16) return this.skip(SkipReason.truncated);
        etype = (buf[off + 14]! << 8) | buf[off + 15]!;
        p = off + 16;
        break;
      case 276: // LINUX_SLL2
        if (caplen < 20) return this.skip(SkipReason.truncated);
        etype = (buf[off]! << 8) | buf[off + 1]!;
        p = off + 20;
        break;
      case 101: case 12: case 14: // RAW (12 and 14 are RAW on some BSDs)
        if (caplen < 1) return this.skip(SkipReason.truncated);
        p = off;
        etype = buf[p]! >> 4 === 6 ? ETH_IPV6 : ETH_IPV4;
        break;
      case 228: p = off; etype = ETH_IPV4; break;
      case 229: p = off; etype = ETH_IPV6; break;
      case 0: case 108: { // NULL (host byte order of the writer) and LOOP (network byte order)
        if (caplen < 4) return this.skip(SkipReason.truncated);
        let af = buf.readUInt32BE(off);
        if (linktype === 0 && af > 0xffff) af = buf.readUInt32LE(off);
        p = off + 4;
        // AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 depending on the BSD (10 on Linux).
        etype = af === 2 ? ETH_IPV4 : af === 24 || af === 28 || af === 30 || af === 10 ? ETH_IPV6 : 0;
        break;
      }
      default:
        return this.skip(SkipReason.unknownLinktype);
    }
    if (etype === ETH_IPV4) return this.ipv4(buf, p, end);
    if (etype === ETH_IPV6) return this.ipv6(buf, p, end);
    return this.skip(SkipReason.notIp);
  }

  private skip(reason: number): false {
    this.skipped[reason] = this.skipped[reason]! + 1;
    return false;
  }

  private ipv4(buf: Buffer, p: number, end: number): boolean {
    if (p + 20 > end) return this.skip(SkipReason.truncated);
    const vihl = buf[p]!;
    const ihl = (vihl & 0x0f) << 2;
    if (vihl >> 4 !== 4 || ihl < 20) return this.skip(SkipReason.badHeader);
    if (p + ihl > end) return this.skip(SkipReason.truncated);
    const total = (buf[p + 2]! << 8) | buf[p + 3]!;
    if (total < ihl) return this.skip(SkipReason.badHeader);
    const frag = (buf[p + 6]! << 8) | buf[p + 7]!;
    if (buf[p + 9] !== 6) return this.skip(SkipReason.notTcp);
    // More-fragments set or a non-zero offset: we do not reassemble IP fragments (bots do not send them).
    if (frag & 0x3fff) return this.skip(SkipReason.ipFragment);
    this.ipVersion = 4;
    this.srcOff = p + 12;
    this.dstOff = p + 16;
    this.src4 = u32be(buf, p + 12);
    this.dst4 = u32be(buf, p + 16);
    this.ipLen = total;
    this.tos = buf[p + 1]!;
    this.ttl = buf[p + 8]!;
    this.ipId = (buf[p + 4]! << 8) | buf[p + 5]!;
    this.df = (frag & 0x4000) !== 0;
    return this.tcp(buf, p + ihl, end, p + total);
  }

  private ipv6(buf: Buffer, p: number, end: number): boolean {
    if (p + 40 > end) return this.skip(SkipReason.truncated);
    if (buf[p]! >> 4 !== 6) return this.skip(SkipReason.badHeader);
    const plen = (buf[p + 4]! << 8) | buf[p + 5]!;
    if (plen === 0) return this.skip(SkipReason.badHeader); // jumbogram or bogus
    let nh = buf[p + 6]!;
    this.ipVersion = 6;
    this.srcOff = p + 8;
    this.dstOff = p + 24;
    this.ipLen = plen + 40;
    this.tos = ((buf[p]! & 0x0f) << 4) | (buf[p + 1]! >> 4);
    this.flowLabel = ((buf[p + 1]! & 0x0f) << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
    this.ttl = buf[p + 7]!;
    this.ipId = 0;
    this.df = false;
    const wireEnd = p + 40 + plen;
    let q = p + 40;
    // Walk extension headers to TCP.
    for (let hops = 0; hops < 8; hops++) {
      if (nh === 6) return this.tcp(buf, q, end, wireEnd);
      if (nh === 0 || nh === 43 || nh === 60) {
        if (q + 8 > end) return this.skip(SkipReason.truncated);
        const next = buf[q]!;
        q += (buf[q + 1]! + 1) * 8;
        nh = next;
      } else if (nh === 51) { // AH: length in 4-octet units minus 2
        if (q + 8 > end) return this.skip(SkipReason.truncated);
        const next = buf[q]!;
        q += (buf[q + 1]! + 2) * 4;
        nh = next;
      } else if (nh === 44) {
        return this.skip(SkipReason.ipFragment);
      } else {
        return this.skip(SkipReason.notTcp);
      }
    }
    return this.skip(SkipReason.badHeader);
  }

  /** `end` is where the captured bytes end, `wireEnd` where the IP packet ends (without link padding). */
  private tcp(buf: Buffer, t: number, end: number, wireEnd: number): boolean {
    if (t + 20 > end) return this.skip(SkipReason.truncated);
    const doff = (buf[t + 12]! >> 4) << 2;
    if (doff < 20 || t + doff > wireEnd) return this.skip(SkipReason.badHeader);
    this.sport = (buf[t]! << 8) | buf[t + 1]!;
    this.dport = (buf[t + 2]! << 8) | buf[t + 3]!;
    this.seq = u32be(buf, t + 4);
    this.ack = u32be(buf, t + 8);
    this.flags = buf[t + 13]!;
    this.window = (buf[t + 14]! << 8) | buf[t + 15]!;
    const po = t + doff;
    this.payloadOff = po;
    this.segLen = wireEnd - po;
    const avail = (end < wireEnd ? end : wireEnd) - po;
    this.payloadLen = avail > 0 ? avail : 0;
    return true;
  }

  /** Counts a decoded packet that is not SMTP traffic (neither port is a server port). */
  countNotSmtp(): void {
    this.skipped[SkipReason.notSmtpPort] = this.skipped[SkipReason.notSmtpPort]! + 1;
  }

  /** Counts a packet whose capture time is out of range (the pipeline checks before decoding). */
  countBadTimestamp(): void {
    this.skipped[SkipReason.badTimestamp] = this.skipped[SkipReason.badTimestamp]! + 1;
  }

  skippedByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    skipReasonNames.forEach((n, i) => {
      if (this.skipped[i]) out[n] = this.skipped[i]!;
    });
    return out;
  }
}
