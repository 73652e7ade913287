/**
 * Classic pcap variants for crafted captures: microsecond (0xa1b2c3d4) or nanosecond (0xa1b23c4d)
 * magic, either byte order, any snaplen (a frame longer than the snaplen is stored cut, with
 * caplen < origlen, as libpcap does). Built in memory so callers can ask where each record starts.
 * With the defaults (µs, little-endian) the bytes equal those of src/source/pcap-writer.ts.
 */

export const PcapMagic = { USEC: 0xa1b2c3d4, NSEC: 0xa1b23c4d } as const;

export interface ClassicPcapOptions {
  linktype: number;
  /** Default 262144, as PcapWriter. */
  snaplen?: number;
  nanosecond?: boolean;
  bigEndian?: boolean;
}

export interface RecordInfo {
  /** Offset of the 16-byte record header. */
  offset: number;
  caplen: number;
  origlen: number;
}

export class ClassicPcapBuilder {
  private readonly parts: Buffer[] = [];
  private size = 0;
  readonly records: RecordInfo[] = [];
  readonly snaplen: number;
  readonly nanosecond: boolean;
  readonly bigEndian: boolean;

  constructor(readonly opts: ClassicPcapOptions) {
    this.snaplen = opts.snaplen ?? 262144;
    this.nanosecond = opts.nanosecond ?? false;
    this.bigEndian = opts.bigEndian ?? false;
    const h = Buffer.alloc(24);
    this.u32(h, this.nanosecond ? PcapMagic.NSEC : PcapMagic.USEC, 0);
    this.u16(h, 2, 4);
    this.u16(h, 4, 6);
    this.u32(h, 0, 8); // thiszone
    this.u32(h, 0, 12); // sigfigs
    this.u32(h, this.snaplen, 16);
    this.u32(h, opts.linktype, 20);
    this.push(h);
  }

  private u16(b: Buffer, v: number, o: number): void {
    if (this.bigEndian) b.writeUInt16BE(v, o);
    else b.writeUInt16LE(v, o);
  }
  private u32(b: Buffer, v: number, o: number): void {
    if (this.bigEndian) b.writeUInt32BE(v >>> 0, o);
    else b.writeUInt32LE(v >>> 0, o);
  }
  private push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }

  /** Builds one record (header + captured bytes) without appending it. */
  recordBytes(frame: Uint8Array, tsNs: bigint, origLen = frame.length): Buffer {
    const cap = Math.min(frame.length, this.snaplen);
    const sec = tsNs / 1_000_000_000n;
    const frac = this.nanosecond ? tsNs % 1_000_000_000n : (tsNs % 1_000_000_000n) / 1000n;
    const r = Buffer.alloc(16 + cap);
    this.u32(r, Number(sec), 0);
    this.u32(r, Number(frac), 4);
    this.u32(r, cap, 8);
    this.u32(r, origLen, 12);
    r.set(frame.subarray(0, cap), 16);
    return r;
  }

  /** Appends a record; `tsNs` is nanoseconds since the epoch. Returns its offset. */
  add(frame: Uint8Array, tsNs: bigint, origLen = frame.length): number {
    const r = this.recordBytes(frame, tsNs, origLen);
    return this.addRaw(r, Math.min(frame.length, this.snaplen), origLen);
  }

  /** Appends record bytes verbatim (for deliberately broken records). */
  addRaw(bytes: Buffer, caplen: number, origlen: number): number {
    const offset = this.size;
    this.records.push({ offset, caplen, origlen });
    this.push(bytes);
    return offset;
  }

  get offset(): number {
    return this.size;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}
