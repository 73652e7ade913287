/**
 * JSON lines written straight into a reused Buffer: no string per line, no concatenation to flatten,
 * no UTF-8 encoding of a 256 KiB string per piece (issue 15 item 6; native-notes/replay-output.md).
 *
 * A line's writer asks `reserve` once for the most bytes the line can take (6 per UTF-16 unit of
 * its texts — `\uXXXX` — plus its constants and numbers), then writes with the methods below,
 * which test no bounds. Printable ASCII is copied byte by byte while it is checked; a string with
 * anything else (a quote, a backslash, a control, any non-ASCII unit) is written as
 * `JSON.stringify` writes it, encoded as UTF-8: the bytes of the text the string-building writer
 * made.
 */

/** Bytes allocated beyond a piece's size, so that the line that crosses it seldom moves. */
export const SLACK = 64 * 1024;

/** Most bytes a JSON string of `s` takes (6 a unit: `\uXXXX`; UTF-8 takes at most 3; and the quotes). */
export const jsonBound = (s: string): number => 6 * s.length + 2;

/** 1 for a UTF-16 unit JSON writes as it is in one byte: printable ASCII but `"` and `\\`; 0 for every other unit. */
const SAFE = new Uint8Array(65536);
for (let c = 0x20; c < 0x7f; c++) SAFE[c] = c === 0x22 || c === 0x5c ? 0 : 1;

let gens = 0;
const nextGen = (): number => ++gens;

/** An ASCII constant as little-endian 32-bit words (the last one padded): written 4 bytes a store. */
export interface Bytes {
  readonly words: Int32Array;
  readonly length: number;
}

/** The words of an ASCII constant of ours (checked here, once). */
export function bytesOf(s: string): Bytes {
  const words = new Int32Array(Math.ceil(s.length / 4));
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7e) throw new Error(`not ASCII: ${s}`);
    words[i >> 2]! |= c << (8 * (i & 3));
  }
  return { words, length: s.length };
}

export class ByteLines {
  buf!: Buffer;
  /** The same bytes, for 32-bit stores. */
  private dv!: DataView;
  pos = 0;
  /** Where the line being written starts: `spill` keeps it whole. */
  lineStart = 0;
  /**
   * Names the buffer's current contents: new (unique across all writers) whenever what was written
   * moves or is given away, so a copy of earlier bytes (json-lines.ts, the time of the event before)
   * is made only from this writer's bytes still in place.
   */
  gen = nextGen();

  constructor(
    /** Bytes a piece holds before it is handed on (`SLACK` more are allocated for the line that crosses it). */
    readonly size: number,
    /**
     * Takes the complete lines `buf[0, end)` and returns the buffer to go on writing in (the same one
     * when `buf` may be written over at once); null: the buffer only grows (one line at a time).
     */
    private readonly onFull: ((buf: Buffer, end: number) => Buffer) | null,
  ) {
    this.use(Buffer.allocUnsafeSlow(size + SLACK));
  }

  /** Goes on writing in `buf`. */
  use(buf: Buffer): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  /** Starts over at the buffer's start (what was written is given away or done with). */
  reset(): void {
    this.pos = 0;
    this.lineStart = 0;
    this.gen = nextGen();
  }

  /** Room for `n` more bytes in the line being written (`buf` and `pos` may change). */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.spill(n);
  }

  /**
   * Makes room for `n` bytes: the complete lines before the current one go to `onFull`, which gives
   * back the buffer to go on in, and the line begun moves to its start (into a larger buffer when a
   * line outgrows one).
   */
  private spill(n: number): void {
    const partial = this.pos - this.lineStart;
    const need = partial + n;
    const old = this.buf;
    let next = this.lineStart > 0 && this.onFull ? this.onFull(old, this.lineStart) : old;
    if (next.length < need) next = Buffer.allocUnsafeSlow(Math.max(this.size + SLACK, 2 * need));
    old.copy(next, 0, this.lineStart, this.pos);
    this.gen = nextGen();
    this.use(next);
    this.lineStart = 0;
    this.pos = partial;
  }

  /** Text as UTF-8 (what a stream writes for a string). */
  utf8(s: string): void {
    this.reserve(Buffer.byteLength(s, 'utf8'));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  // The writers below test no bounds: the line's writer reserved room for it.

  /**
   * A constant of ours, 4 bytes a store: a JS loop storing byte by byte measured ~5× slower. Up
   * to 3 bytes past it are written over (the line's reserve has room; later bytes overwrite them).
   */
  put(k: Bytes): void {
    const dv = this.dv;
    const w = k.words;
    const p = this.pos;
    for (let i = 0; i < w.length; i++) dv.setInt32(p + 4 * i, w[i]!, true);
    this.pos = p + k.length;
  }

  /** A text of ours: printable ASCII with nothing to escape (not checked). */
  raw(s: string): void {
    const b = this.buf;
    let p = this.pos;
    const n = s.length;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * Copies `s` if it is printable ASCII without `"` or `\` (what JSON writes as it is, one byte a
   * unit); false at the first other unit, with part of `s` written: the caller goes back.
   */
  plain(s: string): boolean {
    const b = this.buf;
    const dv = this.dv;
    let p = this.pos;
    const n = s.length;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const c0 = s.charCodeAt(i);
      const c1 = s.charCodeAt(i + 1);
      const c2 = s.charCodeAt(i + 2);
      const c3 = s.charCodeAt(i + 3);
      if (!(SAFE[c0] === 1 && SAFE[c1] === 1 && SAFE[c2] === 1 && SAFE[c3] === 1)) return false;
      dv.setInt32(p, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24), true);
      p += 4;
    }
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (SAFE[c] !== 1) return false;
      b[p++] = c;
    }
    this.pos = p;
    return true;
  }

  /** A JSON string, as `JSON.stringify(s)` writes it (jsonBound(s) bytes); printable ASCII 4 bytes a store. */
  str(s: string): void {
    const b = this.buf;
    const dv = this.dv;
    const start = this.pos;
    const n = s.length;
    b[start] = 0x22;
    let p = start + 1;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const c0 = s.charCodeAt(i);
      const c1 = s.charCodeAt(i + 1);
      const c2 = s.charCodeAt(i + 2);
      const c3 = s.charCodeAt(i + 3);
      if (!(SAFE[c0] === 1 && SAFE[c1] === 1 && SAFE[c2] === 1 && SAFE[c3] === 1)) return this.escaped(s, start);
      dv.setInt32(p, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24), true);
      p += 4;
    }
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (SAFE[c] !== 1) return this.escaped(s, start);
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  /** `s` as JSON.stringify writes it, as UTF-8, from `start`. */
  private escaped(s: string, start: number): void {
    this.pos = start + this.buf.write(JSON.stringify(s), start, 'utf8');
  }

  /** 0 ≤ n < 2^31 as exactly `count` digits (leading zeros when n has fewer). */
  digits(n: number, count: number): void {
    const b = this.buf;
    const end = this.pos + count;
    let q = end;
    let v = n | 0;
    for (let i = 0; i < count; i++) {
      const t = (v / 10) | 0;
      b[--q] = 0x30 + v - t * 10;
      v = t;
    }
    this.pos = end;
  }

  /** A non-negative safe integer in decimal (String(n)); int32 arithmetic (a double's `%` is a call). */
  uint(n: number): void {
    if (n >= 2147483648) {
      let hi = Math.floor(n / 1e9);
      let lo = n - hi * 1e9; // exact: below 2^53
      if (lo < 0) {
        hi--;
        lo += 1e9;
      } else if (lo >= 1e9) {
        hi++;
        lo -= 1e9;
      }
      this.uint(hi);
      this.digits(lo, 9);
      return;
    }
    this.digits(
      n,
      n < 10
        ? 1
        : n < 100
          ? 2
          : n < 1000
            ? 3
            : n < 10000
              ? 4
              : n < 100000
                ? 5
                : n < 1000000
                  ? 6
                  : n < 10000000
                    ? 7
                    : n < 100000000
                      ? 8
                      : n < 1000000000
                        ? 9
                        : 10,
    );
  }

  /** A number as JSON.stringify writes it (NUM_BOUND bytes at most). */
  num(n: number): void {
    if (n >= 0 && Number.isSafeInteger(n)) this.uint(n);
    else this.raw(Number.isFinite(n) ? String(n) : 'null');
  }

  /** A number as a template literal writes it (String(n)). */
  textNum(n: number): void {
    if (n >= 0 && Number.isSafeInteger(n)) this.uint(n);
    else this.raw(String(n));
  }

  /**
   * JSON of round6(x) (Math.round(x * 1e6) / 1e6) from the integer microseconds, for 0 ≤ x < 2^33 s
   * (the year 2242); other values through String. Why it is `String(round6(x))`: D = us / 10^6 is a
   * decimal of at most 6 fraction digits, and the double x' = us / 1e6 is the double nearest to D
   * (one correctly rounded division of exact operands). Below 2^33 a double's spacing is at most
   * 2^-20 < 10^-6, so every other decimal of at most 6 fraction digits is at least
   * 10^-6 - 2^-21 > 2^-21 from x': it reads back as another double. A decimal with fewer
   * significant digits than D has at most 6 fraction digits too, so D (trailing zeros dropped) is
   * the shortest decimal that reads back as x', which is what Number::toString prints, in plain
   * notation since 10^-6 ≤ x' < 10^21 (or "0" for 0). test/replay-output.test.ts checks it on every
   * µs of ranges and on random values.
   */
  sec6(x: number): void {
    const us = Math.round(x * 1e6);
    if (!(us >= 0 && us < SEC6_LIMIT)) {
      const r = us / 1e6;
      this.raw(Number.isFinite(r) ? String(r) : 'null');
      return;
    }
    let whole = Math.floor(us / 1e6);
    let frac = us - whole * 1e6; // exact: below 2^53
    if (frac < 0) {
      whole--;
      frac += 1e6;
    } else if (frac >= 1e6) {
      whole++;
      frac -= 1e6;
    }
    this.secParts(whole, frac);
  }

  /** sec6 after its split: `whole` seconds and `frac` µs (0 ≤ frac < 10^6), the fraction's trailing zeros dropped. */
  secParts(whole: number, frac: number): void {
    this.uint(whole);
    if (frac === 0) return;
    let digits = 6;
    let t = (frac / 10) | 0;
    while (frac === t * 10) {
      frac = t;
      t = (frac / 10) | 0;
      digits--;
    }
    this.buf[this.pos++] = 0x2e; // .
    this.digits(frac, digits);
  }
}

/** µs from which sec6 goes through String (2^33 s). */
export const SEC6_LIMIT = 8589934592e6;

/** Most bytes num, textNum and sec6 write (String of any double is at most 25 characters). */
export const NUM_BOUND = 32;
