import type { PacketDecoder } from './packet-decoder.js';

/**
 * The header fields an iptables LOG line prints, kept after the decoder has moved on to other
 * packets: bytes that wait behind a hole, or a reply line cut at a gap or at the end of a flow, are
 * logged with the packet that carried them, not with whatever packet happens to be decoded then.
 * Addresses and ports are not kept: the flow knows them.
 */
export class PacketHeader {
  constructor(
    readonly ipVersion: 4 | 6,
    readonly ipLen: number,
    readonly tos: number,
    readonly ttl: number,
    readonly ipId: number,
    readonly df: boolean,
    readonly flowLabel: number,
    readonly window: number,
    readonly tcpFlags: number,
    /** Capture interface name ('' when unknown). */
    readonly iface: string,
  ) {}

  /** The decoder's current packet. */
  static of(d: PacketDecoder, iface: string): PacketHeader {
    return new PacketHeader(d.ipVersion as 4 | 6, d.ipLen, d.tos, d.ttl, d.ipId, d.df, d.flowLabel, d.window, d.flags, iface);
  }
}
