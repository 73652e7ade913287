/**
 * Builds TCP/IP frames for crafted captures and the benchmark generator (never for the product's
 * read path). Checksums: IPv4 header checksum is computed; TCP checksum is computed too so tshark
 * and tcpdump -vv stay quiet.
 */
import { LinkType } from '../../src/decode/link-layer.js';
import { parseIp } from '../../src/net/ip-text.js';

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/**
 * Link-layer framing. `loop` is LINKTYPE_LOOP (4-byte address family in network byte order),
 * `ipv4`/`ipv6` are LINKTYPE_IPV4/LINKTYPE_IPV6 (no link header, like `raw`).
 */
export type Link = 'en10mb' | 'sll' | 'sll2' | 'raw' | 'null' | 'loop' | 'ipv4' | 'ipv6';
export const linkTypeOf: Record<Link, number> = {
  en10mb: LinkType.EN10MB,
  sll: LinkType.LINUX_SLL,
  sll2: LinkType.LINUX_SLL2,
  raw: LinkType.RAW,
  null: LinkType.NULL,
  loop: LinkType.LOOP,
  ipv4: LinkType.IPV4,
  ipv6: LinkType.IPV6,
};

/** 802.1Q customer tag TPID and 802.1ad service tag TPID (QinQ outer tag). */
export const TPID = { DOT1Q: 0x8100, DOT1AD: 0x88a8 } as const;

export interface TcpFrameSpec {
  link: Link;
  /** 802.1Q tags, outermost first (Ethernet only). */
  vlan?: number[];
  /** TPID of each tag in `vlan`, outermost first; a missing entry is 0x8100 (e.g. `[0x88a8]` for QinQ). */
  vlanTpids?: number[];
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win?: number;
  payload?: Uint8Array;
  /** SLL/SLL2 packet type: 0 to us, 4 sent by us. */
  pkttype?: number;
}

export function ipBytes(ip: string): Buffer {
  const b = parseIp(ip);
  if (!b) throw new Error(`not an IP address: ${ip}`);
  return Buffer.from(b);
}

function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  for (let i = start; i + 1 < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) acc += b[end - 1]! << 8;
  return acc;
}
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

/** One complete link-layer frame carrying one TCP segment. */
export function tcpFrame(s: TcpFrameSpec): Buffer {
  const src = ipBytes(s.src);
  const dst = ipBytes(s.dst);
  const v6 = src.length === 16;
  const payload = s.payload ?? new Uint8Array(0);
  const tcpLen = 20 + payload.length;
  const ipLen = (v6 ? 40 : 20) + tcpLen;
  const ethertype = v6 ? 0x86dd : 0x0800;
  let linkLen: number;
  switch (s.link) {
    case 'en10mb':
      linkLen = 14 + 4 * (s.vlan?.length ?? 0);
      break;
    case 'sll':
      linkLen = 16;
      break;
    case 'sll2':
      linkLen = 20;
      break;
    case 'raw':
      linkLen = 0;
      break;
    case 'null':
      linkLen = 4;
      break;
    case 'loop':
      linkLen = 4;
      break;
    case 'ipv4':
      if (v6) throw new Error('LINKTYPE_IPV4 frame with an IPv6 address');
      linkLen = 0;
      break;
    case 'ipv6':
      if (!v6) throw new Error('LINKTYPE_IPV6 frame with an IPv4 address');
      linkLen = 0;
      break;
  }
  const f = Buffer.alloc(linkLen + ipLen);
  // link header
  if (s.link === 'en10mb') {
    Buffer.from([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02]).copy(f, 0);
    let o = 12;
    (s.vlan ?? []).forEach((id, i) => {
      f.writeUInt16BE(s.vlanTpids?.[i] ?? TPID.DOT1Q, o);
      f.writeUInt16BE(id & 0x0fff, o + 2);
      o += 4;
    });
    f.writeUInt16BE(ethertype, o);
  } else if (s.link === 'sll') {
    f.writeUInt16BE(s.pkttype ?? 0, 0);
    f.writeUInt16BE(1, 2);
    f.writeUInt16BE(6, 4);
    Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(f, 6);
    f.writeUInt16BE(ethertype, 14);
  } else if (s.link === 'sll2') {
    f.writeUInt16BE(ethertype, 0);
    f.writeUInt32BE(2, 4);
    f.writeUInt16BE(1, 8);
    f.writeUInt8(s.pkttype ?? 0, 10);
    f.writeUInt8(6, 11);
    Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(f, 12);
  } else if (s.link === 'null') {
    f.writeUInt32LE(v6 ? 24 : 2, 0); // AF_INET / BSD AF_INET6
  } else if (s.link === 'loop') {
    f.writeUInt32BE(v6 ? 24 : 2, 0); // AF_INET / OpenBSD AF_INET6, network byte order
  }
  // IP header
  let o = linkLen;
  if (v6) {
    f.writeUInt32BE(0x60000000, o);
    f.writeUInt16BE(tcpLen, o + 4);
    f[o + 6] = 6;
    f[o + 7] = 64;
    src.copy(f, o + 8);
    dst.copy(f, o + 24);
    o += 40;
  } else {
    f[o] = 0x45;
    f.writeUInt16BE(ipLen, o + 2);
    f.writeUInt16BE(0x4000, o + 6);
    f[o + 8] = 64;
    f[o + 9] = 6;
    src.copy(f, o + 12);
    dst.copy(f, o + 16);
    f.writeUInt16BE(fold(sum16(f, o, o + 20)), o + 10);
    o += 20;
  }
  // TCP header
  const t = o;
  f.writeUInt16BE(s.sport, t);
  f.writeUInt16BE(s.dport, t + 2);
  f.writeUInt32BE(s.seq >>> 0, t + 4);
  f.writeUInt32BE(s.ack >>> 0, t + 8);
  f[t + 12] = 5 << 4;
  f[t + 13] = s.flags;
  f.writeUInt16BE(s.win ?? 64240, t + 14);
  f.set(payload, t + 20);
  // pseudo-header checksum
  let acc = sum16(src, 0, src.length) + sum16(dst, 0, dst.length) + 6 + tcpLen;
  acc = sum16(f, t, t + tcpLen, acc);
  f.writeUInt16BE(fold(acc), t + 16);
  return f;
}

/** Receives each frame with its timestamp in microseconds since the epoch. */
export type FrameSink = (frame: Buffer, tsUsec: number) => void;

/**
 * A TCP conversation between one client and one server with consistent sequence numbers.
 * Each send may be cut into segments of the given sizes (the remainder goes in a last segment).
 */
export class TcpConversation {
  cseq: number;
  sseq: number;
  constructor(
    readonly link: Link,
    readonly client: { ip: string; port: number },
    readonly server: { ip: string; port: number },
    private readonly sink: FrameSink,
    isnClient = 1000,
    isnServer = 5000,
    readonly vlan?: number[],
    /** TPIDs for `vlan`, outermost first (see TcpFrameSpec.vlanTpids). */
    readonly vlanTpids?: number[],
  ) {
    this.cseq = isnClient >>> 0;
    this.sseq = isnServer >>> 0;
  }

  private frame(fromClient: boolean, flags: number, payload: Uint8Array | undefined, tsUsec: number, seqOverride?: number): void {
    const a = fromClient ? this.client : this.server;
    const b = fromClient ? this.server : this.client;
    const spec: TcpFrameSpec = {
      link: this.link,
      src: a.ip,
      dst: b.ip,
      sport: a.port,
      dport: b.port,
      seq: seqOverride ?? (fromClient ? this.cseq : this.sseq),
      ack: fromClient ? this.sseq : this.cseq,
      flags,
      pkttype: fromClient ? 0 : 4,
    };
    if (payload) spec.payload = payload;
    if (this.vlan) spec.vlan = this.vlan;
    if (this.vlanTpids) spec.vlanTpids = this.vlanTpids;
    this.sink(tcpFrame(spec), tsUsec);
  }

  open(tsUsec: number): void {
    this.frame(true, TCP.SYN, undefined, tsUsec);
    this.cseq = (this.cseq + 1) >>> 0;
    this.frame(false, TCP.SYN | TCP.ACK, undefined, tsUsec + 100);
    this.sseq = (this.sseq + 1) >>> 0;
    this.frame(true, TCP.ACK, undefined, tsUsec + 200);
  }

  /** Sends `data` from one side, split at `cuts` sizes; returns the sequence number it started at. */
  send(fromClient: boolean, data: string | Uint8Array, tsUsec: number, cuts: number[] = []): number {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const start = fromClient ? this.cseq : this.sseq;
    let off = 0;
    let ts = tsUsec;
    for (const n of [...cuts, bytes.length]) {
      if (off >= bytes.length) break;
      const seg = bytes.subarray(off, Math.min(bytes.length, off + n));
      this.frame(fromClient, TCP.PSH | TCP.ACK, seg, ts++);
      if (fromClient) this.cseq = (this.cseq + seg.length) >>> 0;
      else this.sseq = (this.sseq + seg.length) >>> 0;
      off += seg.length;
    }
    return start;
  }

  fromClient(data: string | Uint8Array, tsUsec: number, cuts?: number[]): number {
    return this.send(true, data, tsUsec, cuts);
  }
  fromServer(data: string | Uint8Array, tsUsec: number, cuts?: number[]): number {
    return this.send(false, data, tsUsec, cuts);
  }

  /** A raw segment at an explicit sequence number (for retransmissions and out-of-order cases); does not advance. */
  raw(fromClient: boolean, seq: number, data: string | Uint8Array, tsUsec: number): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.frame(fromClient, TCP.PSH | TCP.ACK, bytes, tsUsec, seq >>> 0);
  }

  /** Advances a side's sequence number without emitting (bytes that the caller emits by `raw`). */
  advance(fromClient: boolean, n: number): void {
    if (fromClient) this.cseq = (this.cseq + n) >>> 0;
    else this.sseq = (this.sseq + n) >>> 0;
  }

  close(tsUsec: number): void {
    this.frame(true, TCP.FIN | TCP.ACK, undefined, tsUsec);
    this.cseq = (this.cseq + 1) >>> 0;
    this.frame(false, TCP.FIN | TCP.ACK, undefined, tsUsec + 100);
    this.sseq = (this.sseq + 1) >>> 0;
    this.frame(true, TCP.ACK, undefined, tsUsec + 200);
  }
}
