import { isAscii } from 'node:buffer';
import { createReadStream, readSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import type { Compression } from './types.js';

/**
 * Log files as a stream of decompressed byte chunks. The compression is recognised by its magic
 * bytes, not the file name (a rotated `mail.log.1` may be compressed, a `.gz` may be plain):
 * gzip (node:zlib, concatenated members too), bzip2 (unbzip2-stream), xz (xz-decompress, WASM)
 * and zstd (fzstd). Everything is streamed; nothing holds a whole file.
 */

export interface OpenLog {
  compression: Compression;
  /** Modification time, epoch seconds (now for stdin). */
  mtime: number;
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Bytes read at a time: just under 1 MB, not 1 MiB. Node makes a latin1 string of more than
 * 1,031,913 bytes (EXTERN_APEX in its string_bytes.cc) an external string, whose bytes are
 * malloc'd; a chunk's text is that size, and one such string per chunk, freed at the next
 * collection, grew malloc's heap by ~45 MB over a 1.5 GB log, memory it kept to the end
 * (issue 15; native-notes/report-memory.md). Under it the text is an ordinary V8 string.
 */
const CHUNK = 1_000_000;

export function detectCompression(b: Uint8Array): Compression {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bzip2'; // "BZh"
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return 'xz';
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Opens a log file (`-` = standard input) and starts reading it. */
export async function openLog(file: string): Promise<OpenLog> {
  let source: AsyncIterable<Uint8Array>;
  let mtime: number;
  if (file === '-') {
    source = process.stdin as AsyncIterable<Uint8Array>;
    mtime = Date.now() / 1000;
  } else {
    const st = statSync(file);
    if (st.isDirectory()) throw new Error('is a directory, not a log file');
    mtime = st.mtimeMs / 1000;
    source = createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Uint8Array>;
  }
  const it = source[Symbol.asyncIterator]();
  // The first chunk decides the format; at least 6 bytes unless the file is shorter.
  let head: Uint8Array = new Uint8Array(0);
  let ended = false;
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head = head.length === 0 ? r.value : concat(head, r.value);
  }
  const compression = detectCompression(head);
  async function* raw(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  let chunks: AsyncIterable<Uint8Array>;
  switch (compression) {
    case 'gzip':
      chunks = viaTransform(raw(), createGunzip({ chunkSize: 256 * 1024 }));
      break;
    case 'bzip2':
      chunks = bunzip(raw());
      break;
    case 'xz':
      chunks = unxz(raw());
      break;
    case 'zstd':
      chunks = unzstd(raw());
      break;
    default:
      chunks = raw();
  }
  return { compression, mtime, chunks };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

async function* viaTransform(src: AsyncIterable<Uint8Array>, t: NodeJS.ReadWriteStream & AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const input = Readable.from(src);
  input.on('error', (e) => (t as unknown as Readable).destroy(e));
  input.pipe(t);
  yield* t;
}

// The decompressors are loaded on first use (xz-decompress instantiates WebAssembly).

async function* unxz(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const mod = await import('xz-decompress');
  const Xz = mod.default?.XzReadableStream ?? mod.XzReadableStream;
  const web = Readable.toWeb(Readable.from(src)) as unknown as ReadableStream<Uint8Array>;
  try {
    yield* Readable.fromWeb(new Xz(web) as unknown as WebReadableStream<Uint8Array>) as AsyncIterable<Uint8Array>;
  } catch (e) {
    throw new Error(`xz: ${(e as Error).message}`, { cause: e });
  }
}

/** unbzip2-stream is a synchronous `through` stream: write, collect what it queued, yield. */
async function* bunzip(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const unbzip2 = (await import('unbzip2-stream')).default;
  const bz = unbzip2();
  const out: Uint8Array[] = [];
  let err: Error | null = null;
  bz.on('data', (d: Uint8Array) => out.push(d));
  bz.on('error', (e: Error) => {
    err ??= e;
  });
  for await (const chunk of src) {
    bz.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (err) throw new Error(`bzip2: ${(err as Error).message}`);
    while (out.length > 0) yield out.shift()!;
  }
  bz.end();
  if (err) throw new Error(`bzip2: ${(err as Error).message}`);
  while (out.length > 0) yield out.shift()!;
}

async function* unzstd(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const { Decompress } = await import('fzstd');
  const out: Uint8Array[] = [];
  const d = new Decompress((data) => {
    out.push(data);
  });
  try {
    for await (const chunk of src) {
      d.push(chunk);
      while (out.length > 0) yield out.shift()!;
    }
    d.push(new Uint8Array(0), true);
  } catch (e) {
    throw new Error(`zstd: ${(e as Error).message}`, { cause: e });
  }
  while (out.length > 0) yield out.shift()!;
}

/** The longest line a log may have: 64 KiB (real log lines are a few hundred bytes). */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Bytes decoded into one string at most (cut at an LF; longer than MAX_LINE_BYTES, so any line
 * fits). A chunk decoded whole (1 MiB) was an external string, its bytes malloc'd: one per chunk,
 * freed only at the next collection, they held malloc's heap ~55 MB larger to the end of a
 * `report`; 1,000,000-byte strings (V8's own) each took fresh pages of its large-object space
 * (4× the page faults, +1 s of system time over 10 M lines). Under 128 KiB a string is an
 * ordinary young-generation object: neither (issue 15; native-notes/report-memory.md).
 */
const PIECE = 120_000;

/**
 * Splits byte chunks into lines (LF; a CR before it is dropped) decoded as UTF-8. Lines are cut
 * on bytes before decoding, so a multi-byte character split across chunks stays whole; a final
 * line without LF counts too (`end`). Line numbers are 1-based.
 *
 * A "line" longer than MAX_LINE_BYTES is not a log line (`/dev/zero`, a binary file): it throws,
 * which ends the reading of that file with an error that names the line — rather than holding an
 * ever-growing line in memory, or reading a file that never ends.
 */
export class LineSplitter {
  lineNo = 0;
  private carry: Buffer | null = null;

  push(c: Uint8Array, onLine: (line: string, no: number) => void): void {
    const buf: Buffer = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    const firstLf = buf.indexOf(10);
    if ((this.carry?.length ?? 0) + (firstLf < 0 ? buf.length : firstLf) > MAX_LINE_BYTES) this.tooLong();
    if (firstLf < 0) {
      this.carry = this.carry ? Buffer.concat([this.carry, buf]) : Buffer.from(buf);
      return;
    }
    let start = 0;
    const hadCarry = this.carry !== null;
    if (this.carry) {
      // The carried partial line is completed on its own: the chunk itself is not copied.
      const first = Buffer.concat([this.carry, buf.subarray(0, firstLf)]);
      this.carry = null;
      this.segment(first, 0, first.length, onLine);
      start = firstLf + 1;
    }
    const cut = buf.lastIndexOf(10);
    if (!hadCarry || cut > firstLf) this.segment(buf, start, cut, onLine);
    if (cut + 1 < buf.length) this.carry = Buffer.from(buf.subarray(cut + 1));
    if (this.carry && this.carry.length > MAX_LINE_BYTES) this.tooLong();
  }

  /** The lines of buf[s, e) (e at an LF, or the end of a completed line), decoded PIECE bytes or fewer at a time. */
  private segment(buf: Buffer, from: number, e: number, onLine: (line: string, no: number) => void): void {
    let s = from;
    while (e - s > PIECE) {
      const lf = buf.lastIndexOf(10, s + PIECE - 1);
      if (lf < s) break; // no LF in the piece: a line too long, which piece() reports
      this.piece(buf, s, lf, onLine);
      s = lf + 1;
    }
    this.piece(buf, s, e, onLine);
  }

  /** The lines of buf[s, e) (e at an LF, or the end of a completed line). */
  private piece(buf: Buffer, s: number, e: number, onLine: (line: string, no: number) => void): void {
    // Pure ASCII (nearly every log chunk): latin1 gives the same string as UTF-8 and skips the
    // decoder (≈ 2× faster on the bench logs); one vectorised isAscii pass decides.
    const text = isAscii(buf.subarray(s, e)) ? buf.toString('latin1', s, e) : buf.toString('utf8', s, e);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? text.length : nl;
      // UTF-16 units, not bytes: within a factor of 3 of the byte count, which is all a cap needs.
      if (end - start > MAX_LINE_BYTES) this.tooLong();
      const x = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      onLine(text.slice(start, x), ++this.lineNo);
      if (nl < 0) break;
      start = nl + 1;
    }
  }

  end(onLine: (line: string, no: number) => void): void {
    const c = this.carry;
    this.carry = null;
    if (!c || c.length === 0) return;
    let s = c.toString('utf8');
    if (s.endsWith('\r')) s = s.slice(0, -1);
    onLine(s, ++this.lineNo);
  }

  private tooLong(): never {
    this.carry = null;
    throw new Error(`line ${this.lineNo + 1} is longer than ${MAX_LINE_BYTES / 1024} KiB: not a text log (read stopped there)`);
  }
}

/**
 * The bytes [start, end) of a plain (uncompressed) file, in chunks: one thread's share of a log
 * read on several (see parallel-scan.ts).
 */
export function openRange(file: string, start: number, end: number): AsyncIterable<Uint8Array> {
  if (end <= start) return (async function* () {})();
  return createReadStream(file, { start, end: end - 1, highWaterMark: CHUNK }) as AsyncIterable<Uint8Array>;
}

/**
 * The offset of the first line that starts at or after `offset` in an open file (the byte after
 * the first LF at or after offset − 1; the file's size when no LF follows).
 */
export function lineStartFrom(fd: number, offset: number, size: number): number {
  if (offset <= 0) return 0;
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let pos = offset - 1; pos < size;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    const lf = buf.subarray(0, n).indexOf(10);
    if (lf >= 0) return pos + lf + 1;
    pos += n;
  }
  return size;
}
