import type { PacketRecord } from './packet-record.js';
import { u32be, u32le } from '../net/bytes.js';

/** Result of one parse step over buffered bytes. */
export const enum Step {
  /** Not enough bytes buffered for the next record. */
  NeedMore = 0,
  /** `rec` now describes a packet. */
  Packet = 1,
  /** A non-packet record (pcapng IDB, statistics …) was consumed. */
  Skipped = 2,
}

/** Raised by a parser for a record it cannot read; `at` is relative to the record's start. */
export class RecordError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Parses records out of a byte window. `consumed` tells how many bytes the last Packet/Skipped step
 * used. Implementations keep no reference to earlier windows: `rec.buf` points into the window.
 */
export interface RecordParser {
  readonly format: 'pcap' | 'pcapng';
  consumed: number;
  step(buf: Buffer, pos: number, end: number, rec: PacketRecord): Step;
  /** Bytes needed at least before step can make progress (for buffer sizing). */
  readonly maxRecord: number;
}

/** Largest frame a sane capture holds (libpcap's MAXIMUM_SNAPLEN); larger means corruption. */
export const MAX_CAPLEN = 262144;

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAPNG_SHB = 0x0a0d0d0a;

/** Classic libpcap format: 24-byte file header, then 16-byte record headers. */
export class PcapParser implements RecordParser {
  readonly format = 'pcap';
  readonly maxRecord = MAX_CAPLEN + 16;
  consumed = 0;
  private headerDone = false;
  private le = true;
  private nsec = false;
  private linktype = 0;

  step(buf: Buffer, pos: number, end: number, rec: PacketRecord): Step {
    if (!this.headerDone) {
      if (end - pos < 24) return Step.NeedMore;
      const m = buf.readUInt32LE(pos);
      if (m === PCAP_MAGIC_USEC || m === PCAP_MAGIC_NSEC) this.le = true;
      else {
        const mb = buf.readUInt32BE(pos);
        if (mb !== PCAP_MAGIC_USEC && mb !== PCAP_MAGIC_NSEC) throw new RecordError(`not a pcap file (magic 0x${m.toString(16)})`);
        this.le = false;
      }
      const magic = this.le ? m : buf.readUInt32BE(pos);
      this.nsec = magic === PCAP_MAGIC_NSEC;
      // The link type's low 16 bits; the upper bits may hold FCS length flags (pcap-savefile(5)).
      this.linktype = (this.le ? buf.readUInt32LE(pos + 20) : buf.readUInt32BE(pos + 20)) & 0xffff;
      this.headerDone = true;
      this.consumed = 24;
      return Step.Skipped;
    }
    if (end - pos < 16) return Step.NeedMore;
    let sec: number, frac: number, caplen: number, origlen: number;
    if (this.le) {
      sec = u32le(buf, pos);
      frac = u32le(buf, pos + 4);
      caplen = u32le(buf, pos + 8);
      origlen = u32le(buf, pos + 12);
    } else {
      sec = u32be(buf, pos);
      frac = u32be(buf, pos + 4);
      caplen = u32be(buf, pos + 8);
      origlen = u32be(buf, pos + 12);
    }
    if (caplen > MAX_CAPLEN) throw new RecordError(`record claims a ${caplen}-byte packet (more than ${MAX_CAPLEN})`);
    if (end - pos < 16 + caplen) return Step.NeedMore;
    rec.buf = buf;
    rec.off = pos + 16;
    rec.caplen = caplen;
    rec.origlen = origlen < caplen ? caplen : origlen;
    rec.tsSec = sec;
    rec.tsNsec = this.nsec ? frac : frac * 1000;
    rec.linktype = this.linktype;
    rec.iface = 0;
    this.consumed = 16 + caplen;
    return Step.Packet;
  }
}

/** Per-interface state of a pcapng section: link type and a timestamp converter. */
interface NgInterface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  /** 2^32 = q * unitsPerSec + r, r split as r1 * 65536 + r0: exact 64-bit division without BigInt. */
  q: number;
  r1: number;
  r0: number;
  /** Nanoseconds per unit (for 10^-n with n ≤ 9) or 0 when dividing is needed. */
  nsPerUnit: number;
  tsOffsetSec: number;
}

const MAX_BLOCK = 16 * 1024 * 1024;

/** pcapng (draft-ietf-opsawg-pcapng): SHB, IDB, EPB, SPB and the obsolete PB; other blocks skipped. */
export class PcapngParser implements RecordParser {
  readonly format = 'pcapng';
  readonly maxRecord = MAX_BLOCK;
  consumed = 0;
  private le = true;
  private ifaces: NgInterface[] = [];
  /** Packets naming an interface the section never described. */
  unknownInterface = 0;

  private u32(buf: Buffer, o: number): number {
    return this.le ? u32le(buf, o) : u32be(buf, o);
  }
  private u16(buf: Buffer, o: number): number {
    return this.le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
  }

  step(buf: Buffer, pos: number, end: number, rec: PacketRecord): Step {
    if (end - pos < 12) return Step.NeedMore;
    const typeLE = buf.readUInt32LE(pos);
    if (typeLE === PCAPNG_SHB) {
      // Byte order is set by each section's byte-order magic, before its length can be read.
      const bom = buf.readUInt32LE(pos + 8);
      if (bom === 0x1a2b3c4d) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else throw new RecordError(`pcapng section header with bad byte-order magic 0x${bom.toString(16)}`);
      this.ifaces = [];
    }
    const type = this.u32(buf, pos);
    const len = this.u32(buf, pos + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) throw new RecordError(`pcapng block of type 0x${type.toString(16)} has invalid length ${len}`);
    if (end - pos < len) return Step.NeedMore;
    if (this.u32(buf, pos + len - 4) !== len)
      throw new RecordError(`pcapng block of type 0x${type.toString(16)}: trailing length differs from leading length ${len}`);
    this.consumed = len;
    const body = pos + 8;
    const bodyEnd = pos + len - 4;
    switch (type) {
      case 6: // Enhanced Packet Block
      case 2: {
        // obsolete Packet Block: a 16-bit interface id (and drop count) where EPB has 32 bits
        if (bodyEnd - body < 20) throw new RecordError('pcapng packet block too short');
        const id = type === 6 ? this.u32(buf, body) : this.u16(buf, body);
        const caplen = this.u32(buf, body + 12);
        if (caplen > bodyEnd - body - 20) throw new RecordError(`pcapng packet claims ${caplen} bytes in a ${len}-byte block`);
        const ifc = this.ifaces[id];
        if (!ifc) {
          this.unknownInterface++;
          return Step.Skipped;
        }
        this.setTs(ifc, this.u32(buf, body + 4), this.u32(buf, body + 8), rec);
        rec.buf = buf;
        rec.off = body + 20;
        rec.caplen = caplen;
        const orig = this.u32(buf, body + 16);
        rec.origlen = orig < caplen ? caplen : orig;
        rec.linktype = ifc.linktype;
        rec.iface = id;
        return Step.Packet;
      }
      case 3: {
        // Simple Packet Block: interface 0, no timestamp
        // A 12-byte block has no original-length field: its packet length would come out negative.
        if (bodyEnd - body < 4) throw new RecordError('pcapng simple packet block too short');
        const ifc = this.ifaces[0];
        if (!ifc) {
          this.unknownInterface++;
          return Step.Skipped;
        }
        const orig = this.u32(buf, body);
        let caplen = Math.min(orig, bodyEnd - body - 4);
        if (ifc.snaplen > 0 && caplen > ifc.snaplen) caplen = ifc.snaplen;
        rec.buf = buf;
        rec.off = body + 4;
        rec.caplen = caplen;
        rec.origlen = orig < caplen ? caplen : orig;
        // SPBs carry no time: the packet keeps the previous packet's timestamp (rec is reused).
        rec.linktype = ifc.linktype;
        rec.iface = 0;
        return Step.Packet;
      }
      case 1: // Interface Description Block
        if (bodyEnd - body < 8) throw new RecordError('pcapng interface description block too short');
        this.ifaces.push(this.readInterface(buf, body, bodyEnd));
        return Step.Skipped;
      default:
        return Step.Skipped;
    }
  }

  private readInterface(buf: Buffer, body: number, bodyEnd: number): NgInterface {
    const linktype = this.u16(buf, body);
    const snaplen = this.u32(buf, body + 4);
    let unitsPerSec = 1e6;
    let tsOffsetSec = 0;
    for (let o = body + 8; o + 4 <= bodyEnd;) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      if (code === 0) break;
      if (o + 4 + olen > bodyEnd) throw new RecordError('pcapng interface option runs past its block');
      if (code === 9 && olen >= 1) {
        const v = buf[o + 4]!;
        const exp = v & 0x7f;
        unitsPerSec = v & 0x80 ? 2 ** exp : 10 ** exp;
        if (exp > (v & 0x80 ? 60 : 18)) throw new RecordError(`pcapng if_tsresol ${v} out of range`);
      } else if (code === 14 && olen === 8) {
        const hi = this.le ? buf.readInt32LE(o + 8) : buf.readInt32BE(o + 4);
        const lo = this.le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 8);
        tsOffsetSec = hi * 4294967296 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    const q = Math.floor(4294967296 / unitsPerSec);
    const r = 4294967296 - q * unitsPerSec;
    const r1 = Math.floor(r / 65536);
    const nsPerUnit = unitsPerSec <= 1e9 && 1e9 % unitsPerSec === 0 ? 1e9 / unitsPerSec : 0;
    return { linktype, snaplen, unitsPerSec, q, r1, r0: r - r1 * 65536, nsPerUnit, tsOffsetSec };
  }

  /** Splits the 64-bit unit count hi·2^32+lo into seconds and nanoseconds exactly, without BigInt. */
  private setTs(ifc: NgInterface, hi: number, lo: number, rec: PacketRecord): void {
    const d = ifc.unitsPerSec;
    const t1 = hi * ifc.r1;
    const q1 = Math.floor(t1 / d);
    const rest = (t1 - q1 * d) * 65536 + hi * ifc.r0 + lo;
    const q2 = Math.floor(rest / d);
    const units = rest - q2 * d;
    rec.tsSec = hi * ifc.q + q1 * 65536 + q2 + ifc.tsOffsetSec;
    rec.tsNsec = ifc.nsPerUnit > 0 ? units * ifc.nsPerUnit : Math.floor((units / d) * 1e9);
  }
}
