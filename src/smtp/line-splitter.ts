/**
 * Splits one direction's reassembled bytes into lines ending in LF (CR before it dropped), across
 * segment boundaries. A line that lies wholly inside one segment is exposed in place (no copy);
 * only a line split across segments is assembled in a small per-stream buffer. Lines longer than
 * `maxLine` keep their first `maxLine` bytes and are flagged `truncated`.
 *
 * Pull style, so the caller can switch modes between lines (an SMTP DATA body is not lines):
 *   for (let p = start; (p = s.next(buf, p, end)) >= 0; ) use(s.lineBuf, s.lineStart, s.lineEnd);
 */
export class LineSplitter {
  lineBuf: Buffer = EMPTY;
  lineStart = 0;
  lineEnd = 0;
  /** truncated / resyncing / carryTruncated, one bit each (accessors below): 16 bytes less a splitter. */
  private bits = 0;
  /** Lines cut at maxLine. */
  longLines = 0;
  private carry: Buffer | null = null;
  private carryLen = 0;

  constructor(private readonly maxLine = 2048) {}

  /** Bytes of an incomplete line held over from earlier segments. */
  get partialLength(): number {
    return this.carryLen;
  }

  /**
   * Finds the next complete line in buf[pos, end). Returns the index just after its LF and exposes
   * the line in lineBuf/lineStart/lineEnd; returns -1 when the rest is an incomplete line (kept).
   */
  next(buf: Buffer, pos: number, end: number): number {
    for (;;) {
      let lf = pos;
      while (lf < end && buf[lf] !== 10) lf++;
      if (lf === end) {
        if (!this.resyncing) this.hold(buf, pos, end);
        return -1;
      }
      if (this.resyncing) {
        this.resyncing = false;
        pos = lf + 1;
        continue;
      }
      if (this.carryLen === 0) {
        this.lineBuf = buf;
        this.lineStart = pos | 0; // | 0: keeps the field a small integer (a boxed double per splitter otherwise)
        let e = lf;
        if (e > pos && buf[e - 1] === 13) e--;
        if (e - pos > this.maxLine) {
          e = pos + this.maxLine;
          this.truncated = true;
          this.longLines++;
        } else this.truncated = false;
        this.lineEnd = e | 0;
        return lf + 1;
      }
      this.hold(buf, pos, lf);
      const c = this.carry!;
      let e = this.carryLen;
      let cut = this.carryTruncated;
      if (e > 0 && c[e - 1] === 13 && !cut) e--;
      // The carry keeps maxLine + 1 bytes (room for the CR): cut the line to maxLine here, as a
      // line lying in one segment is, so where the segments split it changes nothing.
      if (e > this.maxLine) {
        e = this.maxLine;
        cut = true;
      }
      this.lineBuf = c;
      this.lineStart = 0;
      this.lineEnd = e;
      this.truncated = cut;
      if (cut) this.longLines++;
      this.carryLen = 0;
      this.carryTruncated = false;
      return lf + 1;
    }
  }

  private hold(buf: Buffer, pos: number, end: number): void {
    if (end <= pos) return;
    if (!this.carry) this.carry = Buffer.allocUnsafe(Math.min(this.maxLine + 1, 256));
    let n = end - pos;
    const room = this.maxLine + 1 - this.carryLen;
    if (n > room) {
      n = room;
      this.carryTruncated = true;
    }
    if (n <= 0) return;
    if (this.carryLen + n > this.carry.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxLine + 1, Math.max(this.carry.length * 2, this.carryLen + n)));
      this.carry.copy(bigger, 0, 0, this.carryLen);
      this.carry = bigger;
    }
    buf.copy(this.carry, this.carryLen, pos, pos + n);
    this.carryLen += n;
  }

  /**
   * The stream lost bytes: hands back the partial line held so far (so a caller can still use a
   * reply code it already has), then resynchronises at the next LF.
   */
  gap(): { buf: Buffer; start: number; end: number } | null {
    const partial = this.carryLen > 0 ? { buf: this.carry!, start: 0, end: this.carryLen } : null;
    this.carryLen = 0;
    this.carryTruncated = false;
    this.resyncing = true;
    return partial;
  }

  /** Stop resynchronising: the caller knows the next byte starts a line. */
  lineStartsHere(): void {
    this.resyncing = false;
  }

  /**
   * Lets the line buffer go (the stream ended). The owner usually lives in the old generation by
   * then, and a young buffer it points to would survive every scavenge until a full collection:
   * at 200,000 closing flows that was 70 MB of dead line buffers at the peak.
   */
  release(): void {
    this.carry = null;
    this.carryLen = 0;
    this.lineBuf = EMPTY;
  }

  /** Hands out the held partial line at the end of the stream. */
  takePartial(): { buf: Buffer; start: number; end: number } | null {
    if (this.carryLen === 0) return null;
    const p = { buf: this.carry!, start: 0, end: this.carryLen };
    this.carryLen = 0;
    return p;
  }

  /** The line just exposed was cut at maxLine. */
  get truncated(): boolean {
    return (this.bits & 1) !== 0;
  }
  set truncated(v: boolean) {
    this.bits = v ? this.bits | 1 : this.bits & ~1;
  }
  /** After a gap: drop bytes up to the next LF (the line they belong to lost its start). */
  get resyncing(): boolean {
    return (this.bits & 2) !== 0;
  }
  set resyncing(v: boolean) {
    this.bits = v ? this.bits | 2 : this.bits & ~2;
  }
  private get carryTruncated(): boolean {
    return (this.bits & 4) !== 0;
  }
  private set carryTruncated(v: boolean) {
    this.bits = v ? this.bits | 4 : this.bits & ~4;
  }
}

const EMPTY = Buffer.alloc(0);
