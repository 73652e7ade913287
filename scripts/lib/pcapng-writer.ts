/**
 * A small pcapng writer for crafted captures (never used on the product's read path).
 *
 * Written from the block layouts in draft-ietf-opsawg-pcapng: every block is
 * `type(4) | total length(4) | body | total length(4)`, the body and every option value are
 * padded with zero bytes to a multiple of 4, and option lists end with opt_endofopt. Fields are in
 * the byte order of the Section Header Block, which may be either; the SHB's byte-order magic
 * 0x1A2B3C4D tells a reader which one.
 *
 * The whole file is built in memory (crafted files are a few KiB) so a caller can also ask where
 * each block starts, which the broken-file ground truths need.
 */

export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  CUSTOM_COPY: 0x00000bad,
} as const;

/** Option codes used here (section 3.5 and the per-block tables of the draft). */
export const Opt = {
  ENDOFOPT: 0,
  COMMENT: 1,
  SHB_HARDWARE: 2,
  SHB_OS: 3,
  SHB_USERAPPL: 4,
  IF_NAME: 2,
  IF_DESCRIPTION: 3,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
  EPB_FLAGS: 2,
  ISB_STARTTIME: 2,
  ISB_ENDTIME: 3,
  ISB_IFRECV: 4,
  ISB_IFDROP: 5,
} as const;

/** if_tsresol byte for 10^-n seconds. */
export function tsresolPow10(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new Error(`bad power of ten: ${n}`);
  return n;
}
/** if_tsresol byte for 2^-n seconds (most significant bit set). */
export function tsresolPow2(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new Error(`bad power of two: ${n}`);
  return 0x80 | n;
}

/**
 * Converts a time in nanoseconds since the epoch to units of an interface's resolution
 * (rounded down). `tsresol` undefined means the option is absent, i.e. microseconds.
 */
export function toUnits(tsNs: bigint, tsresol: number | undefined): bigint {
  const r = tsresol ?? 6;
  const exp = BigInt(r & 0x7f);
  if (r & 0x80) return (tsNs << exp) / 1_000_000_000n;
  const per = 10n ** exp;
  return per >= 1_000_000_000n ? tsNs * (per / 1_000_000_000n) : tsNs / (1_000_000_000n / per);
}

export interface PcapngOption {
  code: number;
  value: Uint8Array;
}

export interface PcapngInterface {
  linktype: number;
  /** 0 = no limit (the default). */
  snaplen?: number;
  /** if_name option. */
  name?: string;
  /** if_description option. */
  description?: string;
  /** Raw if_tsresol byte (see tsresolPow10/tsresolPow2); omitted means 10^-6. */
  tsresol?: number;
  /** if_tsoffset: seconds added to every timestamp of the interface (a signed 64-bit option). */
  tsoffset?: bigint;
}

export interface EpbOptions {
  /** Original length; defaults to the frame length. */
  origLen?: number;
  /** opt_comment string. */
  comment?: string;
  /** epb_flags word (bits 0-1: 1 inbound, 2 outbound). */
  flags?: number;
}

export interface BlockInfo {
  type: number;
  offset: number;
  length: number;
  /** True for EPB/SPB blocks: the blocks a reader turns into packets. */
  packet: boolean;
}

export interface PcapngWriterOptions {
  bigEndian?: boolean;
  userappl?: string;
  os?: string;
  hardware?: string;
  /** A comment on the Section Header Block. */
  comment?: string;
}

const pad4 = (n: number): number => (n + 3) & ~3;

export class PcapngWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private readonly interfaces: PcapngInterface[] = [];
  readonly blocks: BlockInfo[] = [];
  packets = 0;
  readonly bigEndian: boolean;

  constructor(opts: PcapngWriterOptions = {}) {
    this.bigEndian = opts.bigEndian ?? false;
    const fixed = Buffer.alloc(16);
    this.u32(fixed, 0x1a2b3c4d, 0);
    this.u16(fixed, 1, 4); // major
    this.u16(fixed, 0, 6); // minor
    fixed.writeBigInt64LE(-1n, 8); // section length unknown (all ones: byte order does not matter)
    const options: PcapngOption[] = [];
    if (opts.comment !== undefined) options.push(this.strOpt(Opt.COMMENT, opts.comment));
    if (opts.hardware !== undefined) options.push(this.strOpt(Opt.SHB_HARDWARE, opts.hardware));
    if (opts.os !== undefined) options.push(this.strOpt(Opt.SHB_OS, opts.os));
    if (opts.userappl !== undefined) options.push(this.strOpt(Opt.SHB_USERAPPL, opts.userappl));
    this.block(BlockType.SHB, fixed, options, false);
  }

  private u16(b: Buffer, v: number, o: number): void {
    if (this.bigEndian) b.writeUInt16BE(v, o);
    else b.writeUInt16LE(v, o);
  }
  private u32(b: Buffer, v: number, o: number): void {
    if (this.bigEndian) b.writeUInt32BE(v >>> 0, o);
    else b.writeUInt32LE(v >>> 0, o);
  }

  private strOpt(code: number, s: string): PcapngOption {
    return { code, value: Buffer.from(s, 'utf8') };
  }
  /** A 32-bit option value in the section's byte order. */
  u32Opt(code: number, v: number): PcapngOption {
    const b = Buffer.alloc(4);
    this.u32(b, v, 0);
    return { code, value: b };
  }
  /** A 64-bit timestamp option value (upper then lower 32 bits, like EPB timestamps). */
  tsOpt(code: number, units: bigint): PcapngOption {
    const b = Buffer.alloc(8);
    this.u32(b, Number(units >> 32n), 0);
    this.u32(b, Number(units & 0xffffffffn), 4);
    return { code, value: b };
  }
  /** A 64-bit unsigned option value in the section's byte order. */
  u64Opt(code: number, v: bigint): PcapngOption {
    const b = Buffer.alloc(8);
    if (this.bigEndian) b.writeBigUInt64BE(v);
    else b.writeBigUInt64LE(v);
    return { code, value: b };
  }

  private encodeOptions(options: PcapngOption[]): Buffer {
    if (options.length === 0) return Buffer.alloc(0);
    let n = 4; // opt_endofopt
    for (const o of options) n += 4 + pad4(o.value.length);
    const b = Buffer.alloc(n); // zero-filled: padding and opt_endofopt are zeros
    let off = 0;
    for (const o of options) {
      if (o.value.length > 0xffff) throw new Error('option value too long');
      this.u16(b, o.code, off);
      this.u16(b, o.value.length, off + 2);
      b.set(o.value, off + 4);
      off += 4 + pad4(o.value.length);
    }
    this.u16(b, Opt.ENDOFOPT, off);
    this.u16(b, 0, off + 2);
    return b;
  }

  /**
   * Appends a block: `body` is the fixed part (padded here to 4 bytes), then the options.
   * Returns the block's offset in the file.
   */
  block(type: number, body: Uint8Array, options: PcapngOption[] = [], packet = false): number {
    const opts = this.encodeOptions(options);
    const bodyLen = pad4(body.length);
    const total = 12 + bodyLen + opts.length;
    const b = Buffer.alloc(total);
    this.u32(b, type, 0);
    this.u32(b, total, 4);
    b.set(body, 8);
    opts.copy(b, 8 + bodyLen);
    this.u32(b, total, total - 4);
    return this.append(b, type, packet);
  }

  /** Appends bytes verbatim (for deliberately broken blocks); `type` is only recorded. */
  appendRaw(bytes: Buffer, type: number, packet: boolean): number {
    return this.append(bytes, type, packet);
  }

  private append(b: Buffer, type: number, packet: boolean): number {
    const offset = this.size;
    this.parts.push(b);
    this.size += b.length;
    this.blocks.push({ type, offset, length: b.length, packet });
    if (packet) this.packets++;
    return offset;
  }

  /** Writes an Interface Description Block; returns its interface id. */
  addInterface(iface: PcapngInterface): number {
    const fixed = Buffer.alloc(8);
    this.u16(fixed, iface.linktype, 0);
    this.u16(fixed, 0, 2);
    this.u32(fixed, iface.snaplen ?? 0, 4);
    const options: PcapngOption[] = [];
    if (iface.name !== undefined) options.push(this.strOpt(Opt.IF_NAME, iface.name));
    if (iface.description !== undefined) options.push(this.strOpt(Opt.IF_DESCRIPTION, iface.description));
    if (iface.tsresol !== undefined) options.push({ code: Opt.IF_TSRESOL, value: Uint8Array.of(iface.tsresol) });
    if (iface.tsoffset !== undefined) options.push(this.u64Opt(Opt.IF_TSOFFSET, BigInt.asUintN(64, iface.tsoffset)));
    this.block(BlockType.IDB, fixed, options);
    this.interfaces.push(iface);
    return this.interfaces.length - 1;
  }

  /** Builds (without appending) the bytes of an Enhanced Packet Block. */
  epbBytes(ifId: number, frame: Uint8Array, tsNs: bigint, o: EpbOptions = {}): Buffer {
    const iface = this.interfaces[ifId];
    if (!iface) throw new Error(`no interface ${ifId}`);
    const snap = iface.snaplen ?? 0;
    const cap = snap > 0 ? Math.min(snap, frame.length) : frame.length;
    const units = toUnits(tsNs, iface.tsresol);
    const fixed = Buffer.alloc(20 + cap);
    this.u32(fixed, ifId, 0);
    this.u32(fixed, Number(units >> 32n), 4);
    this.u32(fixed, Number(units & 0xffffffffn), 8);
    this.u32(fixed, cap, 12);
    this.u32(fixed, o.origLen ?? frame.length, 16);
    fixed.set(frame.subarray(0, cap), 20);
    const options: PcapngOption[] = [];
    if (o.comment !== undefined) options.push(this.strOpt(Opt.COMMENT, o.comment));
    if (o.flags !== undefined) options.push(this.u32Opt(Opt.EPB_FLAGS, o.flags));
    const opts = this.encodeOptions(options);
    const bodyLen = pad4(fixed.length);
    const total = 12 + bodyLen + opts.length;
    const b = Buffer.alloc(total);
    this.u32(b, BlockType.EPB, 0);
    this.u32(b, total, 4);
    fixed.copy(b, 8);
    opts.copy(b, 8 + bodyLen);
    this.u32(b, total, total - 4);
    return b;
  }

  /** Appends an Enhanced Packet Block; `tsNs` is nanoseconds since the epoch. */
  enhancedPacket(ifId: number, frame: Uint8Array, tsNs: bigint, o: EpbOptions = {}): number {
    return this.append(this.epbBytes(ifId, frame, tsNs, o), BlockType.EPB, true);
  }

  /**
   * Appends a Simple Packet Block (interface 0, no timestamp). The captured part is
   * min(snaplen of interface 0, original length); only the block length says how long it is.
   */
  simplePacket(frame: Uint8Array, origLen = frame.length): number {
    const iface = this.interfaces[0];
    if (!iface) throw new Error('a Simple Packet Block needs interface 0');
    const snap = iface.snaplen ?? 0;
    const cap = snap > 0 ? Math.min(snap, frame.length) : frame.length;
    const body = Buffer.alloc(4 + cap);
    this.u32(body, origLen, 0);
    body.set(frame.subarray(0, cap), 4);
    const offset = this.size;
    this.block(BlockType.SPB, body, [], true);
    return offset;
  }

  /** Appends an Interface Statistics Block (readers that do not need it must skip it). */
  interfaceStatistics(ifId: number, tsNs: bigint, recv: bigint, drop: bigint): number {
    const iface = this.interfaces[ifId];
    if (!iface) throw new Error(`no interface ${ifId}`);
    const units = toUnits(tsNs, iface.tsresol);
    const fixed = Buffer.alloc(12);
    this.u32(fixed, ifId, 0);
    this.u32(fixed, Number(units >> 32n), 4);
    this.u32(fixed, Number(units & 0xffffffffn), 8);
    return this.block(BlockType.ISB, fixed, [
      this.tsOpt(Opt.ISB_STARTTIME, units),
      this.tsOpt(Opt.ISB_ENDTIME, units),
      this.u64Opt(Opt.ISB_IFRECV, recv),
      this.u64Opt(Opt.ISB_IFDROP, drop),
    ]);
  }

  /** Offset the next block will start at. */
  get offset(): number {
    return this.size;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}
