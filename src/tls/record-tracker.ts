/**
 * TLS record headers of an opaque flow, read from both reassembled directions: content type,
 * version, length, and where each direction's handshake ends. Nothing is decrypted and nothing
 * is buffered: a header is five bytes, kept as numbers while it is split across segments, and a
 * record's body is only counted down. No allocation per record.
 */

export const enum ContentType {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
  Heartbeat = 24,
}

/**
 * Largest record length accepted: TLS 1.2 allows 2^14 + 2048 of ciphertext (RFC 5246 6.2.3),
 * TLS 1.3 less. A longer length means we are not reading headers.
 */
export const MAX_RECORD_LENGTH = 16384 + 2048;

/** Where the tracker hands each record; called synchronously, once per header. */
export interface TlsRecordSink {
  /**
   * One record header. `app`: the record carries application data, that is it comes after this
   * direction's handshake ended (TLS 1.3: its encrypted handshake records are type 23 too and are
   * not `app`). `ts` is the time of the packet that completed the header.
   */
  record(fromClient: boolean, type: number, version: number, length: number, app: boolean, ts: number): void;
  /** The records of one direction can no longer be followed (a gap cut a header, or bytes are not TLS). */
  lost(fromClient: boolean, ts: number): void;
  /** The direction found a header again after `lost` (a segment that begins with a plausible header). */
  resynced(fromClient: boolean, ts: number): void;
}

// Direction state bits.
const CCS_SEEN = 1; // this direction sent ChangeCipherSpec
const HS_DONE = 2; // this direction's handshake ended
const LOST = 4; // headers cannot be followed

/** One direction: where we are in the record stream. Numbers only. */
class Direction {
  /** Body bytes of the current record still to come; 0 between records. */
  bodyLeft = 0;
  /** Header bytes read so far (0-4 while a header is split across segments). */
  headerPos = 0;
  /** Header bytes read so far, big-endian in one number (at most 4 bytes: type, version, length high). */
  header = 0;
  flags = 0;
  records = 0;
}

export class TlsRecordTracker {
  private readonly client = new Direction();
  private readonly server = new Direction();
  /** Set when a direction sent encrypted (type 23) records before its Finished: TLS 1.3. */
  private v13 = false;

  constructor(private readonly sink: TlsRecordSink) {}

  get tls13(): boolean {
    return this.v13;
  }
  /** Records whose header was read, per direction. */
  get clientRecords(): number {
    return this.client.records;
  }
  get serverRecords(): number {
    return this.server.records;
  }
  handshakeDone(fromClient: boolean): boolean {
    return ((fromClient ? this.client : this.server).flags & HS_DONE) !== 0;
  }
  isLost(fromClient: boolean): boolean {
    return ((fromClient ? this.client : this.server).flags & LOST) !== 0;
  }

  /** In-order bytes of one direction (the StreamConsumer contract: `buf` valid during the call). */
  data(fromClient: boolean, buf: Buffer, start: number, end: number, ts: number): void {
    const d = fromClient ? this.client : this.server;
    let p = start;
    if (d.flags & LOST) {
      // Stacks write records from the start of a segment: take one that begins with a header.
      if (!plausibleHeader(buf, start, end)) return;
      d.flags &= ~LOST;
      d.bodyLeft = 0;
      d.headerPos = 0;
      d.header = 0;
      this.sink.resynced(fromClient, ts);
    }
    while (p < end) {
      if (d.bodyLeft > 0) {
        const n = Math.min(d.bodyLeft, end - p);
        d.bodyLeft -= n;
        p += n;
        continue;
      }
      if (d.headerPos < 4) {
        d.header = d.header * 256 + buf[p++]!;
        d.headerPos++;
        // The first byte alone already tells whether this is a record.
        if (d.headerPos === 1 && (d.header < ContentType.ChangeCipherSpec || d.header > ContentType.Heartbeat)) return this.lose(fromClient, d, ts);
        if (d.headerPos === 2 && (d.header & 0xff) !== 3) return this.lose(fromClient, d, ts);
        continue;
      }
      const h = d.header;
      const length = (h & 0xff) * 256 + buf[p++]!;
      d.headerPos = 0;
      d.header = 0;
      if (length > MAX_RECORD_LENGTH) return this.lose(fromClient, d, ts);
      d.bodyLeft = length;
      this.header(fromClient, d, h >>> 24, (h >>> 8) & 0xffff, length, ts);
      if (d.flags & LOST) return;
    }
  }

  /**
   * Bytes that will never arrive. A gap of known size inside a record's body keeps us in step
   * (the lengths tell where the next header is); one that reaches into a header, or of unknown
   * size, loses the direction until a segment begins with a header again.
   */
  gap(fromClient: boolean, lost: number, ts: number): void {
    const d = fromClient ? this.client : this.server;
    if (d.flags & LOST) return;
    // While a header is being read bodyLeft is 0: any lost byte there is a header byte.
    if (lost >= 0 && lost <= d.bodyLeft) {
      d.bodyLeft -= lost;
      return;
    }
    this.lose(fromClient, d, ts);
  }

  private lose(fromClient: boolean, d: Direction, ts: number): void {
    d.flags |= LOST;
    d.bodyLeft = 0;
    d.headerPos = 0;
    d.header = 0;
    this.sink.lost(fromClient, ts);
  }

  /**
   * Where the handshake ends. TLS 1.2: a direction's Finished is its first Handshake record after
   * its ChangeCipherSpec. TLS 1.3: after ServerHello everything is type 23; the server's encrypted
   * flight comes before the client's Finished, which is the client's first type-23 record; the
   * server's application data begins once the client's Finished was seen (NewSessionTicket first).
   */
  private header(fromClient: boolean, d: Direction, type: number, version: number, length: number, ts: number): void {
    d.records++;
    let app = false;
    if (type === ContentType.ChangeCipherSpec) d.flags |= CCS_SEEN;
    else if (type === ContentType.Handshake) {
      if ((d.flags & (CCS_SEEN | HS_DONE)) === CCS_SEEN && !this.v13) d.flags |= HS_DONE; // TLS 1.2 Finished
    } else if (type === ContentType.ApplicationData) {
      if (d.flags & HS_DONE) app = true;
      else {
        // Type 23 before this direction's Finished: only TLS 1.3 does that.
        this.v13 = true;
        if (fromClient)
          d.flags |= HS_DONE; // the client's Finished; its next records are data
        else if (this.client.flags & HS_DONE) {
          d.flags |= HS_DONE;
          app = true;
        }
      }
    }
    this.sink.record(fromClient, type, version, length, app, ts);
  }
}

/** A segment that starts like a record header: known type, version 3.x, length in range. */
export function plausibleHeader(buf: Buffer, s: number, e: number): boolean {
  if (e - s < 5) return false;
  const t = buf[s]!;
  if (t < ContentType.ChangeCipherSpec || t > ContentType.Heartbeat) return false;
  if (buf[s + 1] !== 3 || buf[s + 2]! > 4) return false;
  const len = buf[s + 3]! * 256 + buf[s + 4]!;
  return len > 0 && len <= MAX_RECORD_LENGTH;
}
