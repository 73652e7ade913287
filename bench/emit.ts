/**
 * A fast, specialised classic-pcap writer for the benchmark generator: Ethernet + IPv4 (and IPv6
 * TCP for the many-clients capture), microsecond timestamps, little-endian. Every record is written straight into one large output
 * buffer (no Buffer per frame); the buffer goes to the file with a synchronous write when full.
 *
 * Checksums: the IPv4 header checksum is always correct; TCP checksums are left at 0 (tcpdump and
 * tshark do not validate them by default, and smtpstrike must not care); UDP checksums are 0,
 * which IPv4 defines as "no checksum"; ICMP checksums are correct.
 *
 * Timestamps are clamped so that they never go backwards in the file.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

/** Largest record we ever write: 16 (record header) + 14 + 20 + 20 + 1460, rounded up. */
const MAX_RECORD = 2048;

export class PcapOut {
  private readonly fd: number;
  private readonly buf: Buffer;
  private used = 0;
  private ipId = 1;
  private lastTs = 0;
  /** Bytes handed to the file so far plus bytes still buffered. */
  bytes = 0;
  packets = 0;

  constructor(path: string, chunkBytes = 32 << 20, snaplen = 65535) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(chunkBytes + MAX_RECORD);
    const b = this.buf;
    b.writeUInt32LE(0xa1b2c3d4, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8);
    b.writeUInt32LE(0, 12);
    b.writeUInt32LE(snaplen, 16);
    b.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.used = 24;
    this.bytes = 24;
  }

  /** Timestamp of the last record written (µs since the epoch). */
  get lastTimestamp(): number {
    return this.lastTs;
  }

  private flushIfNeeded(): void {
    if (this.used + MAX_RECORD > this.buf.length) this.flush();
  }

  flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  /**
   * Writes the pcap record header (time clamped so it never runs backwards) and the Ethernet header
   * of a `frameLen`-byte frame; returns the offset of the L3 header.
   */
  private frameStart(tsUs: number, frameLen: number, ethertype: number, inbound: boolean): number {
    this.flushIfNeeded();
    const b = this.buf;
    let o = this.used;
    const ts = Math.floor(tsUs < this.lastTs ? this.lastTs : tsUs);
    this.lastTs = ts;
    const sec = Math.floor(ts / 1e6);
    // pcap record header (LE)
    w32le(b, o, sec);
    w32le(b, o + 4, ts - sec * 1e6);
    w32le(b, o + 8, frameLen);
    w32le(b, o + 12, frameLen);
    o += 16;
    // Ethernet: dst, src, type. Router 02:00:00:00:00:01, servers' NIC 02:00:00:00:00:02.
    b[o] = 0x02;
    b[o + 1] = 0;
    b[o + 2] = 0;
    b[o + 3] = 0;
    b[o + 4] = 0;
    b[o + 5] = inbound ? 0x02 : 0x01;
    b[o + 6] = 0x02;
    b[o + 7] = 0;
    b[o + 8] = 0;
    b[o + 9] = 0;
    b[o + 10] = 0;
    b[o + 11] = inbound ? 0x01 : 0x02;
    b[o + 12] = ethertype >>> 8;
    b[o + 13] = ethertype & 0xff;
    return o + 14;
  }

  /**
   * Writes the record header, Ethernet header and IPv4 header; returns the offset where the L4
   * header starts. `inbound` picks the MAC pair (towards the servers or away from them).
   */
  private l3(tsUs: number, src: number, dst: number, proto: number, ttl: number, l4len: number, inbound: boolean): number {
    const b = this.buf;
    const frameLen = 14 + 20 + l4len;
    const o = this.frameStart(tsUs, frameLen, 0x0800, inbound);
    // IPv4
    const totalLen = 20 + l4len;
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff;
    b[o] = 0x45;
    b[o + 1] = 0;
    b[o + 2] = totalLen >>> 8;
    b[o + 3] = totalLen & 0xff;
    b[o + 4] = id >>> 8;
    b[o + 5] = id & 0xff;
    b[o + 6] = 0x40;
    b[o + 7] = 0; // DF
    b[o + 8] = ttl;
    b[o + 9] = proto;
    w32be(b, o + 12, src);
    w32be(b, o + 16, dst);
    let sum = 0x4500 + totalLen + id + 0x4000 + ((ttl << 8) | proto) + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    const ck = ~sum & 0xffff;
    b[o + 10] = ck >>> 8;
    b[o + 11] = ck & 0xff;
    this.used = o + 20;
    this.bytes += 16 + frameLen;
    this.packets++;
    return o + 20;
  }

  private tcpHdr(
    tsUs: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    ttl: number,
    inbound: boolean,
    plen: number,
  ): number {
    const t = this.l3(tsUs, src, dst, PROTO_TCP, ttl, 20 + plen, inbound);
    this.tcpFields(t, sport, dport, seq, ack, flags, inbound);
    this.used = t + 20 + plen;
    return t + 20;
  }

  /** The 20-byte TCP header at `t` (no options, checksum 0). */
  private tcpFields(t: number, sport: number, dport: number, seq: number, ack: number, flags: number, inbound: boolean): void {
    const b = this.buf;
    b[t] = sport >>> 8;
    b[t + 1] = sport & 0xff;
    b[t + 2] = dport >>> 8;
    b[t + 3] = dport & 0xff;
    w32be(b, t + 4, seq >>> 0);
    w32be(b, t + 8, (flags & TCP_ACK) !== 0 ? ack >>> 0 : 0);
    b[t + 12] = 0x50;
    b[t + 13] = flags;
    const win = inbound ? 64240 : 65160;
    b[t + 14] = win >>> 8;
    b[t + 15] = win & 0xff;
    b[t + 16] = 0;
    b[t + 17] = 0;
    b[t + 18] = 0;
    b[t + 19] = 0;
  }

  /** TCP header and latin1 payload at `t`; advances the buffer past them. */
  private tcpAt(t: number, sport: number, dport: number, seq: number, ack: number, flags: number, inbound: boolean, payload: string): void {
    this.tcpFields(t, sport, dport, seq, ack, flags, inbound);
    if (payload.length > 0) this.buf.write(payload, t + 20, payload.length, 'latin1');
    this.used = t + 20 + payload.length;
  }

  /** A TCP segment whose payload is an ASCII/latin1 string (may be empty). */
  tcpStr(
    tsUs: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    ttl: number,
    inbound: boolean,
    payload: string,
  ): void {
    const p = this.tcpHdr(tsUs, src, dst, sport, dport, seq, ack, flags, ttl, inbound, payload.length);
    if (payload.length > 0) this.buf.write(payload, p, payload.length, 'latin1');
  }

  /**
   * An IPv6 TCP segment with an ASCII/latin1 payload; `src`/`dst` are 16-byte addresses. Shares the
   * record layout, clock clamp and counters of the IPv4 path (TCP checksum 0, as there).
   */
  tcp6Str(
    tsUs: number,
    src: Uint8Array,
    dst: Uint8Array,
    sport: number,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    hopLimit: number,
    inbound: boolean,
    payload: string,
  ): void {
    const b = this.buf;
    const l4len = 20 + payload.length;
    const frameLen = 14 + 40 + l4len;
    const o = this.frameStart(tsUs, frameLen, 0x86dd, inbound);
    w32be(b, o, 0x60000000);
    b[o + 4] = l4len >>> 8;
    b[o + 5] = l4len & 0xff;
    b[o + 6] = PROTO_TCP;
    b[o + 7] = hopLimit;
    b.set(src, o + 8);
    b.set(dst, o + 24);
    this.used = o + 40;
    this.bytes += 16 + frameLen;
    this.packets++;
    this.tcpAt(o + 40, sport, dport, seq, ack, flags, inbound, payload);
  }

  /** A TCP segment whose payload is `src[start, end)`. */
  tcpBytes(
    tsUs: number,
    srcIp: number,
    dstIp: number,
    sport: number,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    ttl: number,
    inbound: boolean,
    data: Buffer,
    start: number,
    end: number,
  ): void {
    const p = this.tcpHdr(tsUs, srcIp, dstIp, sport, dport, seq, ack, flags, ttl, inbound, end - start);
    data.copy(this.buf, p, start, end);
  }

  /** A UDP datagram (checksum 0 = none). */
  udp(tsUs: number, src: number, dst: number, sport: number, dport: number, ttl: number, inbound: boolean, data: Buffer, len: number): void {
    const u = this.l3(tsUs, src, dst, PROTO_UDP, ttl, 8 + len, inbound);
    const b = this.buf;
    const ulen = 8 + len;
    b[u] = sport >>> 8;
    b[u + 1] = sport & 0xff;
    b[u + 2] = dport >>> 8;
    b[u + 3] = dport & 0xff;
    b[u + 4] = ulen >>> 8;
    b[u + 5] = ulen & 0xff;
    b[u + 6] = 0;
    b[u + 7] = 0;
    data.copy(b, u + 8, 0, len);
    this.used = u + ulen;
  }

  /** An ICMP message: type, code, 4 bytes rest-of-header, then `data[0, len)`; checksum computed. */
  icmp(tsUs: number, src: number, dst: number, ttl: number, inbound: boolean, type: number, code: number, rest: number, data: Buffer, len: number): void {
    const c = this.l3(tsUs, src, dst, PROTO_ICMP, ttl, 8 + len, inbound);
    const b = this.buf;
    b[c] = type;
    b[c + 1] = code;
    b[c + 2] = 0;
    b[c + 3] = 0;
    w32be(b, c + 4, rest >>> 0);
    data.copy(b, c + 8, 0, len);
    let sum = 0;
    const end = c + 8 + len;
    for (let i = c; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
    if ((len & 1) === 1) sum += b[end - 1]! << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const ck = ~sum & 0xffff;
    b[c + 2] = ck >>> 8;
    b[c + 3] = ck & 0xff;
    this.used = end;
  }
}

function w32le(b: Buffer, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

export function w32be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export function ipToString(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

export function ipFromString(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4: ${s}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}
