/**
 * One captured frame as every source hands it to the pipeline. A source owns one instance and
 * overwrites it for each packet (no allocation per packet), so a consumer must copy any bytes it
 * keeps beyond the synchronous call that received it.
 */
export interface PacketRecord {
  /** Buffer holding the frame; the frame is `buf[off, off + caplen)`. */
  buf: Buffer;
  off: number;
  caplen: number;
  /** Length on the wire (> caplen when the snapshot length cut the frame). */
  origlen: number;
  /** Capture time: whole seconds since the epoch, and nanoseconds within that second. */
  tsSec: number;
  tsNsec: number;
  /** libpcap LINKTYPE_* of the frame. */
  linktype: number;
  /** pcapng interface index (0 for classic pcap and live capture). */
  iface: number;
}

export function newPacketRecord(): PacketRecord {
  return { buf: Buffer.alloc(0), off: 0, caplen: 0, origlen: 0, tsSec: 0, tsNsec: 0, linktype: 0, iface: 0 };
}

/**
 * Capture times a packet may have: 1970-01-01 up to the end of year 9999 (what a date can be
 * printed as). A pcapng `if_tsoffset` or a 64-bit timestamp can say anything (−2^62 seconds, say);
 * such a packet is skipped and counted (`badTimestamp`), never turned into a `NaN` date.
 */
export const MAX_TS_SEC = 253402300800; // 10000-01-01T00:00:00Z

export function tsInRange(tsSec: number): boolean {
  return tsSec >= 0 && tsSec < MAX_TS_SEC;
}

/** A capture file that cannot be read further: names the file and the byte offset of the bad record. */
export class CaptureFormatError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
    /** The file as a whole is the trouble (cannot be opened, a directory): no offset to tell. */
    wholeFile = false,
  ) {
    super(wholeFile ? `${file}: ${reason}` : `${file}: ${reason} at byte offset ${offset}`);
    this.name = 'CaptureFormatError';
  }
}
