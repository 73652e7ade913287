import type { PacketHeader } from '../decode/packet-header.js';
import { PendingSegments } from './pending-segments.js';
import { seqDiff } from './seq.js';
import type { HeaderSource, StreamConsumer } from './stream.js';

export { seqDiff } from './seq.js';

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/**
 * One direction of a flow. Sequence numbers are kept as int32 (`| 0`), not uint32: V8 stores a
 * field that only ever holds small integers in place, but boxes every instance's value once any
 * instance stores a number ≥ 2^31 — 16 bytes a field at 200,000 flows. Only seqDiff and equality
 * are ever applied to them, and both are the same in either form.
 */
export class HalfStream {
  /** started / finSeen / done, one bit each (three boolean fields would cost 16 bytes more). */
  private bits = 0;
  /** Sequence number of the next byte to deliver. */
  nextSeq = 0;
  finSeq = 0;
  /** Segments waiting for the bytes before them, or null (most of the time). */
  pending: PendingSegments | null = null;

  /** The first byte (or SYN) of this direction was seen. */
  get started(): boolean {
    return (this.bits & 1) !== 0;
  }
  set started(v: boolean) {
    this.bits = v ? this.bits | 1 : this.bits & ~1;
  }
  /** A FIN was seen; finSeq is where it is. */
  get finSeen(): boolean {
    return (this.bits & 2) !== 0;
  }
  set finSeen(v: boolean) {
    this.bits = v ? this.bits | 2 : this.bits & ~2;
  }
  /** Every byte up to the FIN was delivered. */
  get done(): boolean {
    return (this.bits & 4) !== 0;
  }
  set done(v: boolean) {
    this.bits = v ? this.bits | 4 : this.bits & ~4;
  }
}

export interface AssemblerLimits {
  /** Out-of-order bytes one direction may hold while it waits for a gap to fill. */
  maxPendingPerStream: number;
  /** Out-of-order bytes all flows together may hold. */
  maxPendingTotal: number;
  /** Out-of-order segments (pieces) one direction may hold: bytes alone do not bound 1-byte segments. */
  maxPendingSegmentsPerStream: number;
  /** Out-of-order segments all flows together may hold. */
  maxPendingSegmentsTotal: number;
  /** Seconds (packet time) a gap may stay open before its bytes are given up as lost. */
  gapTimeout: number;
}

/** Why these numbers: native-notes/reassembly.md. */
export const defaultAssemblerLimits: AssemblerLimits = {
  maxPendingPerStream: 256 * 1024,
  maxPendingTotal: 64 * 1024 * 1024,
  maxPendingSegmentsPerStream: 512,
  maxPendingSegmentsTotal: 1024 * 1024,
  gapTimeout: 10,
};

export interface ReassemblyStats {
  /** Segments that arrived ahead of a gap and waited. */
  outOfOrderSegments: number;
  /** Bytes received again that had already been delivered (retransmissions). */
  retransmittedBytes: number;
  /** Bytes of a later copy that overlapped bytes already taken, and were dropped (first copy wins). */
  overlapBytes: number;
  /** Gaps given up on, and the bytes lost in them (snapshot-cut payloads included). */
  gaps: number;
  gapBytes: number;
  /** Gaps skipped early because a stream or the whole table hit an out-of-order byte or piece limit. */
  pendingOverflows: number;
  /** The most out-of-order segments, and bytes, held at once by all flows together. */
  pendingSegmentsPeak: number;
  pendingBytesPeak: number;
  /** Directions whose first byte we never saw (the capture began mid-stream). */
  midstreamStarts: number;
}

/**
 * Puts one direction's segments in order and hands the bytes to the consumer exactly once.
 * Policy for overlaps: FIRST COPY WINS — bytes of a sequence range, once received (delivered or
 * waiting), are never replaced by a later segment covering the same range. A hostile peer can
 * therefore not rewrite what we already counted, and a retransmitted 535 counts once.
 */
export class TcpAssembler {
  readonly stats: ReassemblyStats = {
    outOfOrderSegments: 0,
    retransmittedBytes: 0,
    overlapBytes: 0,
    gaps: 0,
    gapBytes: 0,
    pendingOverflows: 0,
    pendingSegmentsPeak: 0,
    pendingBytesPeak: 0,
    midstreamStarts: 0,
  };
  /** Out-of-order bytes held by all flows. */
  pendingTotal = 0;
  /** Out-of-order segments held by all flows. */
  pendingSegments = 0;
  /**
   * Work spent on waiting segments by streams that no longer wait: entries looked at or moved
   * while inserting and draining (live streams add theirs when they drain). Not a coverage figure:
   * tests bound it to show that it does not grow with the number already waiting.
   */
  private doneWork = 0;
  /**
   * Where the header of a packet whose bytes must wait comes from (the pipeline), or null.
   * Only server-to-client bytes keep one: replies are what LOG lines are written for.
   */
  headers: HeaderSource | null = null;
  /** While bytes that waited are delivered: the header of the packet that carried them. */
  replayHeader: PacketHeader | null = null;
  /** Copy of waiting bytes for delivery (consumers see a Buffer, valid during the call). */
  private scratch = Buffer.alloc(0);

  constructor(readonly limits: AssemblerLimits = defaultAssemblerLimits) {}

  get pendingWork(): number {
    return this.doneWork;
  }

  /**
   * One TCP segment of direction `hs`. `avail` payload bytes are present at buf[off..]; `segLen`
   * is the payload length on the wire (larger when the capture's snapshot length cut it).
   * Returns true when this direction has now seen all its bytes up to its FIN.
   */
  segment(
    hs: HalfStream,
    c: StreamConsumer,
    fromClient: boolean,
    seq: number,
    flags: number,
    buf: Buffer,
    off: number,
    avail: number,
    segLen: number,
    ts: number,
  ): boolean {
    if (flags & TcpFlag.SYN) {
      if (!hs.started) {
        hs.started = true;
        hs.nextSeq = (seq + 1) | 0;
      }
      seq = (seq + 1) | 0; // data on a SYN (TFO) starts after the SYN's sequence number
    } else if (!hs.started) {
      if (segLen === 0 && !(flags & TcpFlag.FIN)) return false; // a bare ACK anchors nothing
      hs.started = true;
      hs.nextSeq = seq | 0;
      this.stats.midstreamStarts++;
      c.gap(fromClient, -1, ts);
    }
    if (segLen > 0) {
      if (seqDiff(seq, hs.nextSeq) > 0) this.enqueue(hs, fromClient, seq, buf, off, avail, ts);
      else this.acceptAround(hs, c, fromClient, seq, buf, off, avail, segLen, ts);
      if (hs.pending) {
        this.enforceLimits(hs, c, fromClient, ts);
        // measured once the caps have acted: what stays held between packets
        if (this.pendingSegments > this.stats.pendingSegmentsPeak) this.stats.pendingSegmentsPeak = this.pendingSegments;
        if (this.pendingTotal > this.stats.pendingBytesPeak) this.stats.pendingBytesPeak = this.pendingTotal;
      }
    }
    if (flags & TcpFlag.FIN) {
      hs.finSeq = (seq + segLen) | 0;
      hs.finSeen = true;
    }
    if (hs.finSeen && !hs.done && hs.nextSeq === hs.finSeq && !hs.pending) hs.done = true;
    return hs.done;
  }

  /**
   * Delivers a segment that starts at or before nextSeq around the bytes already waiting (first copy
   * wins there too): its own bytes up to the first waiting segment, then the waiting bytes, then its
   * bytes again only where nothing waited, and so on. Each turn drains at least one waiting segment.
   * (The first waiting segment always starts past nextSeq, or drain would have delivered it.)
   */
  private acceptAround(
    hs: HalfStream,
    c: StreamConsumer,
    fromClient: boolean,
    seq: number,
    buf: Buffer,
    off: number,
    avail: number,
    segLen: number,
    ts: number,
  ): void {
    for (;;) {
      const q = hs.pending;
      const cut = q ? seqDiff(q.firstSeq(), seq) : segLen;
      if (cut >= segLen) {
        this.accept(hs, c, fromClient, seq, buf, off, avail, segLen, ts);
        if (hs.pending) this.drain(hs, c, fromClient, ts);
        return;
      }
      this.accept(hs, c, fromClient, seq, buf, off, avail < cut ? avail : cut, cut, ts);
      this.drain(hs, c, fromClient, ts);
      seq = (seq + cut) | 0;
      off += cut;
      avail = avail > cut ? avail - cut : 0;
      segLen -= cut;
    }
  }

  /** Delivers a segment that starts at or before nextSeq: only its new bytes, once. */
  private accept(
    hs: HalfStream,
    c: StreamConsumer,
    fromClient: boolean,
    seq: number,
    buf: Buffer,
    off: number,
    avail: number,
    segLen: number,
    ts: number,
  ): void {
    const skip = -seqDiff(seq, hs.nextSeq);
    if (skip >= segLen) {
      this.stats.retransmittedBytes += segLen;
      return;
    }
    if (skip > 0) this.stats.overlapBytes += skip;
    if (skip < avail) c.data(fromClient, buf, off + skip, off + avail, ts);
    const lostTail = segLen - (skip > avail ? skip : avail);
    if (lostTail > 0) {
      this.stats.gaps++;
      this.stats.gapBytes += lostTail;
      c.gap(fromClient, lostTail, ts);
    }
    hs.nextSeq = (seq + segLen) | 0;
  }

  /** Delivers waiting segments that have become contiguous, each with its own packet's header. */
  private drain(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ts: number): void {
    const q = hs.pending!;
    while (q.count > 0 && seqDiff(q.firstSeq(), hs.nextSeq) <= 0) {
      const seq = q.firstSeq();
      const bytes = q.firstBytes();
      const header = q.firstHeader();
      q.dropFirst();
      this.pendingTotal -= bytes.length;
      this.pendingSegments--;
      const n = bytes.length;
      if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, 65536));
      this.scratch.write(bytes, 0, n, 'latin1');
      const outer = this.replayHeader;
      this.replayHeader = header;
      try {
        this.accept(hs, c, fromClient, seq, this.scratch, 0, n, n, ts);
      } finally {
        this.replayHeader = outer;
      }
    }
    if (q.count === 0) {
      this.doneWork += q.work;
      hs.pending = null;
    } else q.since = ts;
  }

  /**
   * Keeps a copy of an early segment. Bytes already waiting win over the new copy: only the
   * parts of [seq, seq+avail) not yet covered are stored (first copy wins here too). A
   * snapshot-cut tail is not stored: it becomes part of the gap it leaves.
   */
  private enqueue(hs: HalfStream, fromClient: boolean, seq: number, buf: Buffer, off: number, avail: number, ts: number): void {
    this.stats.outOfOrderSegments++;
    if (avail <= 0) return;
    const q = (hs.pending ??= new PendingSegments(ts));
    const count = q.count;
    const bytes = q.bytes;
    const header = !fromClient && this.headers ? this.headers.keepHeader() : null;
    this.stats.overlapBytes += q.insert(seq, buf, off, avail, hs.nextSeq, header);
    this.pendingSegments += q.count - count;
    this.pendingTotal += q.bytes - bytes;
  }

  private overLimit(q: PendingSegments): boolean {
    const l = this.limits;
    return (
      q.bytes > l.maxPendingPerStream ||
      this.pendingTotal > l.maxPendingTotal ||
      q.count > l.maxPendingSegmentsPerStream ||
      this.pendingSegments > l.maxPendingSegmentsTotal
    );
  }

  /** Gives up on gaps that waited too long or hold too many bytes or pieces. */
  private enforceLimits(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ts: number): void {
    while (hs.pending) {
      if (this.overLimit(hs.pending)) this.stats.pendingOverflows++;
      else if (!(ts - hs.pending.since > this.limits.gapTimeout)) return;
      this.skipGap(hs, c, fromClient, ts);
    }
  }

  /**
   * The idle sweep's share: a direction whose gap has waited longer than the timeout gives it up
   * now, even if its flow has gone quiet (no packet of its own would ever check).
   */
  expireGap(hs: HalfStream, c: StreamConsumer, fromClient: boolean, now: number): void {
    while (hs.pending && now - hs.pending.since > this.limits.gapTimeout) this.skipGap(hs, c, fromClient, now);
  }

  /**
   * The peer acknowledged `ack` for this direction. Bytes it acknowledged reached it and will never
   * be retransmitted, so a hole below `ack` is a capture loss: declare it now rather than wait for
   * the gap timeout (and before the peer's own data is parsed, so replies stay in step with commands).
   */
  acked(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ack: number, ts: number): void {
    while (hs.pending && seqDiff(ack, hs.nextSeq) > 0) this.skipGap(hs, c, fromClient, ts);
  }

  /** Declares the bytes before the first waiting segment lost and delivers what follows. */
  skipGap(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ts: number): void {
    const q = hs.pending;
    if (!q) return;
    const first = q.firstSeq();
    const lost = seqDiff(first, hs.nextSeq);
    if (lost > 0) {
      this.stats.gaps++;
      this.stats.gapBytes += lost;
      c.gap(fromClient, lost, ts);
      hs.nextSeq = first;
    }
    this.drain(hs, c, fromClient, ts);
  }

  /** Flushes everything a direction still holds (flow end): gaps are skipped, waiting bytes delivered. */
  flush(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ts: number): void {
    while (hs.pending) this.skipGap(hs, c, fromClient, ts);
  }
}
