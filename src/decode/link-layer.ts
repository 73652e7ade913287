import { u32be, u32le } from '../net/bytes.js';

/**
 * The link layer, read one way for everything that looks at packets: the decoder (replay, watch,
 * dump's SMTP annotations) and dump's tcpdump-style printer. Given a link type and a frame it says
 * what the network layer is (an EtherType), where it starts, which VLAN tags were stepped over,
 * or why it cannot tell. The rules are tcpdump 4.99's / libpcap's, so that `dump` prints as IP
 * exactly the packets `replay` decodes:
 * - Ethernet: 802.1Q (0x8100), 802.1ad (0x88a8) and the old 0x9100/0x9200 tags are stepped over.
 * - Linux cooked v1/v2: only 0x8100 tags (what libpcap re-inserts from the kernel's VLAN
 *   offload); tcpdump prints any other TPID there as an unknown EtherType, so it is not IP.
 * - BSD loopback (NULL, LOOP): the 4-byte family in either byte order (tcpdump's rule: little
 *   endian unless that leaves the upper 16 bits set); AF_INET is 2, AF_INET6 is 24, 28 or 30
 *   (the BSDs, macOS). Linux's AF_INET6 value 10 is not one of them: Linux never writes this
 *   link type, LINKTYPE_NULL does not define 10, and tcpdump, libpcap's filters and Wireshark all
 *   read it as an unknown family.
 * - Raw IP (RAW, the BSDs' 12 and 14, IPV4, IPV6): the version nibble decides, as in tcpdump.
 * One reused LinkFrame carries the answer: no allocation per packet.
 */

/** Link-layer header types (tcpdump.org/linktypes.html) that smtpstrike reads and writes. */
export const LinkType = {
  NULL: 0,
  EN10MB: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const EtherType = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  VLAN_9100: 0x9100,
  VLAN_9200: 0x9200,
} as const;

/** Why a frame's network layer could not be placed (LinkFrame.stop). */
export const LinkStop = {
  /** The network layer is known: `etype` and `off` are set (etype 0: not an EtherType we name). */
  ok: 0,
  /** The capture ends inside the link header. */
  truncated: 1,
  /** The capture ends inside a VLAN tag (`tags` complete tags before it). */
  truncatedVlan: 2,
  /** A link type not read here. */
  unknownLinktype: 3,
} as const;

export class LinkFrame {
  stop = 0;
  /**
   * The network layer's EtherType (IPv4/IPv6 also for raw IP and BSD loopback); for Ethernet and
   * cooked captures whatever the header says, for raw IP and BSD loopback 0 when the version
   * nibble or family is none of IPv4/IPv6.
   */
  etype = 0;
  /** Offset of the network header in the buffer. */
  off = 0;
  /** VLAN tags stepped over; tag i's TCI is at tagOff + 4i, the EtherType after it at tagOff + 4i + 2. */
  tags = 0;
  tagOff = 0;
  /** Outermost VLAN id, or -1. */
  vlan = -1;
  /** BSD loopback: the address family, byte order resolved. */
  af = 0;
}

const isEtherTag = (t: number): boolean => t === 0x8100 || t === 0x88a8 || t === 0x9100 || t === 0x9200;

/** Reads the link header of buf[off, off + caplen) into `out`; true when stop is ok. */
export function readLink(linktype: number, buf: Uint8Array, off: number, caplen: number, out: LinkFrame): boolean {
  // Untagged Ethernet, nearly every packet, in a function small enough for V8 to inline.
  if (linktype === 1 && caplen >= 14) {
    const etype = (buf[off + 12]! << 8) | buf[off + 13]!;
    if (!isEtherTag(etype)) {
      out.stop = LinkStop.ok;
      out.etype = etype;
      out.off = off + 14;
      out.tags = 0;
      out.vlan = -1;
      out.af = 0;
      return true;
    }
  }
  return readAnyLink(linktype, buf, off, caplen, out);
}

function readAnyLink(linktype: number, buf: Uint8Array, off: number, caplen: number, out: LinkFrame): boolean {
  const end = off + caplen;
  out.tags = 0;
  out.vlan = -1;
  out.af = 0;
  let p: number;
  let etype: number;
  switch (linktype) {
    case 1: // EN10MB
      if (caplen < 14) return stopped(out, LinkStop.truncated);
      p = off + 14;
      etype = (buf[off + 12]! << 8) | buf[off + 13]!;
      if (isEtherTag(etype)) {
        out.tagOff = p;
        do {
          if (p + 4 > end) return stopped(out, LinkStop.truncatedVlan);
          etype = (buf[p + 2]! << 8) | buf[p + 3]!;
          p += 4;
          out.tags++;
        } while (isEtherTag(etype));
      }
      break;
    case 113: // LINUX_SLL
    case 276: // LINUX_SLL2
      if (linktype === 113) {
        if (caplen < 16) return stopped(out, LinkStop.truncated);
        p = off + 16;
        etype = (buf[off + 14]! << 8) | buf[off + 15]!;
      } else {
        if (caplen < 20) return stopped(out, LinkStop.truncated);
        p = off + 20;
        etype = (buf[off]! << 8) | buf[off + 1]!;
      }
      if (etype === 0x8100) {
        out.tagOff = p;
        do {
          if (p + 4 > end) return stopped(out, LinkStop.truncatedVlan);
          etype = (buf[p + 2]! << 8) | buf[p + 3]!;
          p += 4;
          out.tags++;
        } while (etype === 0x8100);
      }
      break;
    case 101:
    case 12:
    case 14:
    case 228:
    case 229: {
      // RAW (12 and 14 on some BSDs), IPV4, IPV6
      if (caplen < 1) return stopped(out, LinkStop.truncated);
      p = off;
      const v = buf[p]! >> 4;
      etype = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
      break;
    }
    case 0:
    case 108: {
      // NULL (the writer's byte order), LOOP (network byte order; tcpdump reads both alike)
      if (caplen < 4) return stopped(out, LinkStop.truncated);
      let af = u32le(buf, off);
      if (af > 0xffff) af = u32be(buf, off);
      out.af = af;
      p = off + 4;
      etype = af === 2 ? 0x0800 : af === 24 || af === 28 || af === 30 ? 0x86dd : 0;
      break;
    }
    default:
      return stopped(out, LinkStop.unknownLinktype);
  }
  if (out.tags > 0) out.vlan = ((buf[out.tagOff]! << 8) | buf[out.tagOff + 1]!) & 0x0fff;
  out.stop = LinkStop.ok;
  out.etype = etype;
  out.off = p;
  return true;
}

function stopped(out: LinkFrame, why: number): false {
  out.stop = why;
  out.etype = 0;
  return false;
}
