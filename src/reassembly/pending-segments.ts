import type { PacketHeader } from '../decode/packet-header.js';
import { seqDiff } from './seq.js';

/** Below this many slots (4 segments) the array is kept at its exact size. */
const SMALL = 12;

/**
 * One direction's out-of-order segments, in sequence order, disjoint. Each is three slots of one
 * flat array — sequence number, bytes, header of the packet that carried them — rather than an
 * object and a Buffer per segment: at 200,000 flows with data waiting that is the difference
 * between fitting in memory or not (native-notes/reassembly.md). Bytes are kept as latin1 strings
 * (exact for every byte value): a one-byte string costs 16 bytes plus its length, a Buffer view
 * about 100 before its bytes.
 *
 * Work per segment does not grow with the number waiting: a segment past the last one (1-byte
 * segments trickling in past a hole) is appended; one that lands in between is placed by binary
 * search and moves the entries behind it (bounded by the per-stream piece cap); the first one is
 * taken by moving a head index, and the array is compacted only when half of it is dead.
 */
export class PendingSegments {
  /** [seq, bytes, header] triples from `head` on; seq as int32 (a small integer, not a boxed double). */
  private slots: (number | string | PacketHeader | null)[] = [];
  private head = 0;
  /** Bytes waiting. */
  bytes = 0;
  /** Packet time at which the oldest gap began to wait. */
  since: number;
  /** Entries looked at or moved (see TcpAssembler.pendingWork). */
  work = 0;

  constructor(since: number) {
    this.since = since;
  }

  get count(): number {
    return (this.slots.length - this.head) / 3;
  }

  /** Sequence number of the first segment (int32, as HalfStream keeps them). */
  firstSeq(): number {
    return this.slots[this.head] as number;
  }

  firstBytes(): string {
    return this.slots[this.head + 1] as string;
  }

  firstHeader(): PacketHeader | null {
    return this.slots[this.head + 2] as PacketHeader | null;
  }

  /** Forgets the first segment. */
  dropFirst(): void {
    const s = this.slots;
    this.bytes -= (s[this.head + 1] as string).length;
    s[this.head + 1] = null; // let the bytes go now, not at the next compaction
    s[this.head + 2] = null;
    this.head += 3;
    if (this.head === s.length) {
      s.length = 0;
      this.head = 0;
    } else if (this.head >= 48 && this.head * 2 >= s.length) {
      this.work += s.length - this.head;
      s.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * Stores the parts of buf[off, off+avail) — sequence `seq` — that no waiting segment covers yet
   * (first copy wins), relative to `base` (the next sequence number the stream expects: every
   * waiting segment lies after it). Returns the bytes that were already covered.
   */
  insert(seq: number, buf: Buffer, off: number, avail: number, base: number, header: PacketHeader | null): number {
    const s0 = seqDiff(seq, base);
    let s = s0;
    const e = s + avail;
    let k = this.after(s, base);
    let covered = 0;
    let q = this.slots;
    while (s < e) {
      const ns = k < q.length ? seqDiff(q[k] as number, base) : Infinity;
      if (ns > s) {
        const pieceEnd = ns < e ? ns : e;
        const bytes = buf.toString('latin1', off + (s - s0), off + (pieceEnd - s0));
        k = this.place(k, (base + s) | 0, bytes, header) + 3;
        q = this.slots;
        this.bytes += bytes.length;
        s = pieceEnd;
      } else {
        const pe = ns + (q[k + 1] as string).length;
        const n = (pe < e ? pe : e) - s;
        covered += n;
        s += n;
        k += 3;
      }
      this.work++;
    }
    return covered;
  }

  /**
   * Puts a triple at slot k and returns the slot it ended up at. While few segments wait (nearly
   * always) the array is rebuilt at its exact size: a growing array would reserve 20 slots where
   * 3 or 6 are used, 130 bytes per waiting direction at 200,000 flows.
   */
  private place(k: number, seq: number, bytes: string, header: PacketHeader | null): number {
    const q = this.slots;
    const live = q.length - this.head;
    if (live < SMALL) {
      const a: (number | string | PacketHeader | null)[] = new Array<number | string | PacketHeader | null>(live + 3);
      let j = 0;
      for (let i = this.head; i < k; i++) a[j++] = q[i]!;
      a[j++] = seq;
      a[j++] = bytes;
      a[j++] = header;
      for (let i = k; i < q.length; i++) a[j++] = q[i]!;
      this.work += live;
      this.slots = a;
      this.head = 0;
      return k - (q.length - live);
    }
    if (k === q.length) q.push(seq, bytes, header);
    else {
      this.work += q.length - k;
      q.splice(k, 0, seq, bytes, header);
    }
    return k;
  }

  /** Slot index of the first waiting segment that ends after offset `s` (relative to `base`). */
  private after(s: number, base: number): number {
    const q = this.slots;
    let lo = this.head / 3;
    let hi = q.length / 3;
    if (hi === lo || this.endOf(hi - 1, base) <= s) return q.length; // the common case: past the last one
    while (lo < hi) {
      this.work++;
      const mid = (lo + hi) >>> 1;
      if (this.endOf(mid, base) <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo * 3;
  }

  private endOf(i: number, base: number): number {
    const q = this.slots;
    return seqDiff(q[i * 3] as number, base) + (q[i * 3 + 1] as string).length;
  }
}
