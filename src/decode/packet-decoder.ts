import { u32be } from '../net/bytes.js';
import { EtherType, LinkFrame, LinkStop, readLink } from './link-layer.js';

/**
 * Link (link-layer.ts) → IP → TCP decoding into one reused object (no allocation per packet).
 * Anything that is not a TCP segment we can place is counted under a skip reason and left alone.
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

  private readonly link = new LinkFrame();

  /** Decodes a frame; false (and one skip counted) when it is not a TCP segment we can use. */
  decode(linktype: number, buf: Buffer, off: number, caplen: number): boolean {
    const end = off + caplen;
    this.buf = buf;
    const link = this.link;
    const ok = readLink(linktype, buf, off, caplen, link);
    this.vlan = link.vlan;
    if (!ok) return this.skip(link.stop === LinkStop.unknownLinktype ? SkipReason.unknownLinktype : SkipReason.truncated);
    if (link.etype === EtherType.IPV4) return this.ipv4(buf, link.off, end);
    if (link.etype === EtherType.IPV6) return this.ipv6(buf, link.off, end);
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
      } else if (nh === 51) {
        // AH: length in 4-octet units minus 2
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
