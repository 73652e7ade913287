import type { StreamConsumer } from './stream.js';

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** Signed distance a - b between two sequence numbers, modulo 2^32 (RFC 1982 serial arithmetic). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** A segment waiting for the bytes before it. Its bytes are a private copy. */
interface PendingSegment {
  seq: number;
  data: Buffer;
}

/** One direction of a flow. */
export class HalfStream {
  started = false;
  /** Sequence number of the next byte to deliver. */
  nextSeq = 0;
  /** Client's initial sequence number when its SYN was seen, else -1. */
  isn = -1;
  finSeq = -1;
  done = false;
  pending: PendingSegment[] | null = null;
  pendingBytes = 0;
  /** Packet time at which the oldest still-pending gap began to wait. */
  pendingSince = 0;
}

export interface AssemblerLimits {
  /** Out-of-order bytes one direction may hold while it waits for a gap to fill. */
  maxPendingPerStream: number;
  /** Out-of-order bytes all flows together may hold. */
  maxPendingTotal: number;
  /** Seconds (packet time) a gap may stay open before its bytes are given up as lost. */
  gapTimeout: number;
}

export const defaultAssemblerLimits: AssemblerLimits = {
  maxPendingPerStream: 256 * 1024,
  maxPendingTotal: 64 * 1024 * 1024,
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
  /** Gaps skipped early because a stream or the whole table hit its out-of-order byte limit. */
  pendingOverflows: number;
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
    outOfOrderSegments: 0, retransmittedBytes: 0, overlapBytes: 0, gaps: 0, gapBytes: 0, pendingOverflows: 0, midstreamStarts: 0,
  };
  /** Out-of-order bytes held by all flows. */
  pendingTotal = 0;

  constructor(readonly limits: AssemblerLimits = defaultAssemblerLimits) {}

  /**
   * One TCP segment of direction `hs`. `avail` payload bytes are present at buf[off..]; `segLen`
   * is the payload length on the wire (larger when the capture's snapshot length cut it).
   * Returns true when this direction has now seen all its bytes up to its FIN.
   */
  segment(
    hs: HalfStream, c: StreamConsumer, fromClient: boolean,
    seq: number, flags: number, buf: Buffer, off: number, avail: number, segLen: number, ts: number,
  ): boolean {
    if (flags & TcpFlag.SYN) {
      if (!hs.started) {
        hs.started = true;
        hs.isn = seq;
        hs.nextSeq = (seq + 1) >>> 0;
      }
      seq = (seq + 1) >>> 0; // data on a SYN (TFO) starts after the SYN's sequence number
    } else if (!hs.started) {
      if (segLen === 0 && !(flags & TcpFlag.FIN)) return false; // a bare ACK anchors nothing
      hs.started = true;
      hs.nextSeq = seq;
      this.stats.midstreamStarts++;
      c.gap(fromClient, -1, ts);
    }
    if (segLen > 0) {
      if (seqDiff(seq, hs.nextSeq) > 0) this.enqueue(hs, seq, buf, off, avail, ts);
      else {
        this.accept(hs, c, fromClient, seq, buf, off, avail, segLen, ts);
        if (hs.pending) this.drain(hs, c, fromClient, ts);
      }
      if (hs.pending) this.enforceLimits(hs, c, fromClient, ts);
    }
    if (flags & TcpFlag.FIN) hs.finSeq = (seq + segLen) >>> 0;
    if (hs.finSeq >= 0 && !hs.done && hs.nextSeq === hs.finSeq && !hs.pending) hs.done = true;
    return hs.done;
  }

  /** Delivers a segment that starts at or before nextSeq: only its new bytes, once. */
  private accept(hs: HalfStream, c: StreamConsumer, fromClient: boolean, seq: number, buf: Buffer, off: number, avail: number, segLen: number, ts: number): void {
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
    hs.nextSeq = (seq + segLen) >>> 0;
  }

  /** Delivers waiting segments that have become contiguous. */
  private drain(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ts: number): void {
    const q = hs.pending!;
    while (q.length > 0 && seqDiff(q[0]!.seq, hs.nextSeq) <= 0) {
      const p = q.shift()!;
      this.release(hs, p.data.length);
      this.accept(hs, c, fromClient, p.seq, p.data, 0, p.data.length, p.data.length, ts);
    }
    if (q.length === 0) hs.pending = null;
    else hs.pendingSince = ts;
  }

  private release(hs: HalfStream, n: number): void {
    hs.pendingBytes -= n;
    this.pendingTotal -= n;
  }

  /**
   * Keeps a copy of an early segment. Bytes already waiting win over the new copy: only the
   * parts of [seq, seq+avail) not yet covered are stored (first copy wins here too). A
   * snapshot-cut tail is not stored: it becomes part of the gap it leaves.
   */
  private enqueue(hs: HalfStream, seq: number, buf: Buffer, off: number, avail: number, ts: number): void {
    this.stats.outOfOrderSegments++;
    if (avail <= 0) return;
    if (!hs.pending) {
      hs.pending = [];
      hs.pendingSince = ts;
    }
    const q = hs.pending;
    const base = hs.nextSeq;
    let s = seqDiff(seq, base);
    const e = s + avail;
    // Walk waiting segments in order, storing the uncovered pieces of [s, e).
    let i = 0;
    while (s < e) {
      while (i < q.length && seqDiff(q[i]!.seq, base) + q[i]!.data.length <= s) i++;
      const next = q[i];
      const ns = next ? seqDiff(next.seq, base) : Infinity;
      if (ns > s) {
        const pieceEnd = Math.min(e, ns);
        const data = Buffer.from(buf.subarray(off + (s - seqDiff(seq, base)), off + (pieceEnd - seqDiff(seq, base))));
        q.splice(i, 0, { seq: (base + s) >>> 0, data });
        hs.pendingBytes += data.length;
        this.pendingTotal += data.length;
        i++;
        s = pieceEnd;
      } else {
        const covered = Math.min(e, ns + next!.data.length) - s;
        this.stats.overlapBytes += covered;
        s += covered;
      }
    }
  }

  /** Gives up on gaps that waited too long or hold too many bytes. */
  private enforceLimits(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ts: number): void {
    while (
      hs.pending &&
      (hs.pendingBytes > this.limits.maxPendingPerStream ||
        this.pendingTotal > this.limits.maxPendingTotal ||
        ts - hs.pendingSince > this.limits.gapTimeout)
    ) {
      if (hs.pendingBytes > this.limits.maxPendingPerStream || this.pendingTotal > this.limits.maxPendingTotal) this.stats.pendingOverflows++;
      this.skipGap(hs, c, fromClient, ts);
    }
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
    const first = hs.pending?.[0];
    if (!first) return;
    const lost = seqDiff(first.seq, hs.nextSeq);
    if (lost > 0) {
      this.stats.gaps++;
      this.stats.gapBytes += lost;
      c.gap(fromClient, lost, ts);
      hs.nextSeq = first.seq;
    }
    this.drain(hs, c, fromClient, ts);
  }

  /** Flushes everything a direction still holds (flow end): gaps are skipped, waiting bytes delivered. */
  flush(hs: HalfStream, c: StreamConsumer, fromClient: boolean, ts: number): void {
    while (hs.pending) this.skipGap(hs, c, fromClient, ts);
  }
}
