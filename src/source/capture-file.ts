import { open, stat, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import { CaptureFormatError, newPacketRecord, type PacketRecord } from './packet-record.js';
import { PCAPNG_SHB, PcapngParser, PcapParser, RecordError, Step, type RecordParser } from './record-parsers.js';

/** Where the bytes come from: a plain file read in place, or a decompressed/piped stream. */
interface ByteSource {
  /** Reads into `buf[at, buf.length)`; resolves to the number of bytes read, 0 at the end. */
  read(buf: Buffer, at: number): Promise<number>;
  close(): Promise<void>;
}

class FileBytes implements ByteSource {
  constructor(private readonly fh: FileHandle) {}
  async read(buf: Buffer, at: number): Promise<number> {
    const { bytesRead } = await this.fh.read(buf, at, buf.length - at, null);
    return bytesRead;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

class StreamBytes implements ByteSource {
  private readonly it: AsyncIterator<Buffer>;
  private chunk: Buffer | null = null;
  private chunkPos = 0;
  /** `under`: the source a decompressing stream reads from, closed with it. */
  constructor(
    private readonly stream: Readable,
    private readonly under: ByteSource | null = null,
  ) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  async read(buf: Buffer, at: number): Promise<number> {
    while (!this.chunk || this.chunkPos >= this.chunk.length) {
      const r = await this.it.next();
      if (r.done) return 0;
      this.chunk = r.value;
      this.chunkPos = 0;
    }
    const n = this.chunk.copy(buf, at, this.chunkPos);
    this.chunkPos += n;
    return n;
  }
  async close(): Promise<void> {
    this.stream.destroy();
    await this.under?.close();
  }
}

/** `head` (bytes already read from `src`), then the rest of `src`, as a stream of `chunkSize` chunks. */
function remainderOf(head: Buffer, src: ByteSource, chunkSize = 1 << 20): Readable {
  return Readable.from(
    (async function* () {
      yield head;
      for (;;) {
        const chunk = Buffer.allocUnsafe(chunkSize); // a new buffer each time: the consumer keeps it
        const n = await src.read(chunk, 0);
        if (n === 0) return;
        yield chunk.subarray(0, n);
      }
    })(),
    { objectMode: false },
  );
}

/** The read buffer of one capture read alone (and the most any reader starts with). */
export const CHUNK = 4 * 1024 * 1024;
/** gzip's own chunks (read and inflated) are at most this, and no larger than the read buffer. */
const GZIP_CHUNK = 1 << 20;

/** What a first look at a capture file found (CaptureFileReader.peek). */
export interface CapturePeek {
  format: 'pcap' | 'pcapng';
  compressed: boolean;
  /** Time of the first packet; null when the file holds none. */
  first: { tsSec: number; tsNsec: number } | null;
  /** The file could not be read as far as its first packet (its header or first record is bad). */
  error: CaptureFormatError | null;
}

/**
 * Whether a capture name can be opened twice and read from its start each time: a regular file
 * (plain or gzip). `-`, FIFOs, `<(…)` and devices cannot (a FIFO is not even opened here:
 * opening and closing it would end its writer).
 */
export async function isReopenable(name: string): Promise<boolean> {
  if (name === '-') return false;
  try {
    return (await stat(name)).isFile();
  } catch {
    return false; // missing or unreadable: opening it says why
  }
}

/** The bytes behind a capture name (see CaptureFileReader.open), not yet looked at. */
async function openByteSource(name: string): Promise<ByteSource> {
  if (name === '-') return new StreamBytes(process.stdin);
  const fh = await open(name, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new CaptureFormatError(name, 0, `cannot open: ${e.code ?? e.message}`);
  });
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new CaptureFormatError(name, 0, 'is a directory, not a capture file', true);
  }
  // Only a regular file can be read at offsets; anything else is read once, front to back.
  return st.isFile() ? new FileBytes(fh) : new StreamBytes(fh.createReadStream({ highWaterMark: 1 << 20 }));
}

/** True for the two bytes that begin a gzip stream. */
const isGzipMagic = (b: Buffer, end: number): boolean => end >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * The bytes of a capture input as one stream, gunzipped when they are gzip — for a program that
 * reads captures itself (`tcpdump -r -`): `-`, FIFOs, `<(…)` and files alike.
 */
export async function captureByteStream(name: string): Promise<Readable> {
  const src = await openByteSource(name);
  const head = Buffer.allocUnsafe(2);
  let end = 0;
  while (end < 2) {
    const n = await src.read(head, end);
    if (n === 0) break;
    end += n;
  }
  const bytes = remainderOf(head.subarray(0, end), src);
  return isGzipMagic(head, end) ? pipeline(bytes, createGunzip({ chunkSize: 1 << 20 }), () => undefined) : bytes;
}

/**
 * Reads one capture file (pcap or pcapng, optionally gzip-compressed, or `-` for stdin) as a
 * stream of packets without loading it whole. Use:
 *   while (true) { while (r.next()) use(r.rec); if (!(await r.refill())) break; }
 * `next()` is synchronous so the per-packet path has no await; `refill()` reads the next chunk.
 */
export class CaptureFileReader {
  readonly rec: PacketRecord = newPacketRecord();
  /** Byte offset (in the decompressed stream) of buf[0]. */
  private base = 0;
  private buf: Buffer;
  private pos = 0;
  private end = 0;
  private eof = false;
  packets = 0;
  /**
   * Where refill takes its next buffer (`replay --threads`: shared blocks that the workers read the
   * packets from, so the packets before it stay where they are); null: the same buffer, its unread
   * tail moved to the front. Asked with the size it must have at least.
   */
  supply: ((size: number) => Buffer) | null = null;
  /**
   * Read-ahead (a plain file read alone, see startReadAhead): the next bytes are read into `spare`
   * at offset `head` while the packets of `buf` are parsed, and the buffers swap at the refill.
   */
  private spare: Buffer | null = null;
  private ahead: Promise<number> | null = null;

  private constructor(
    readonly name: string,
    private readonly src: ByteSource,
    private readonly parser: RecordParser,
    buf: Buffer,
    end: number,
    readonly compressed: boolean,
  ) {
    this.buf = buf;
    this.end = end;
  }

  get format(): 'pcap' | 'pcapng' {
    return this.parser.format;
  }

  /** pcapng packets that named an undescribed interface (skipped). */
  get unknownInterfacePackets(): number {
    return this.parser instanceof PcapngParser ? this.parser.unknownInterface : 0;
  }

  /**
   * Opens a capture by name: `-` is standard input; a FIFO, a process substitution (`<(…)`) or a
   * character device is read as a stream like it; a directory is refused by name.
   */
  static async open(name: string, stop?: AbortSignal, bufferSize = CHUNK, supply: ((size: number) => Buffer) | null = null): Promise<CaptureFileReader> {
    const src = await openByteSource(name);
    // A pipe that stays quiet before its header arrives (watch --replay - on SIGTERM) is closed
    // under the sniffing, which then fails; the caller ignores failures once it has stopped.
    const onAbort = (): void => void src.close().catch(() => undefined);
    stop?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await CaptureFileReader.sniff(name, src, supply ? supply(bufferSize) : Buffer.allocUnsafe(bufferSize), false);
      r.supply = supply;
      return r;
    } finally {
      stop?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Opens a regular file (see isReopenable), reads it as far as its first packet with a small
   * buffer (grown only for a first record larger than it) and closes it again: the time at which
   * a lazy merge must open it for good. A file that cannot be opened throws CaptureFormatError as
   * open() does; one whose first record is bad returns it in `error`, with what was learnt.
   */
  static async peek(name: string, bufferSize: number): Promise<CapturePeek> {
    const r = await CaptureFileReader.open(name, undefined, bufferSize);
    const out: CapturePeek = { format: r.format, compressed: r.compressed, first: null, error: null };
    try {
      for (;;) {
        if (r.next()) {
          out.first = { tsSec: r.rec.tsSec, tsNsec: r.rec.tsNsec };
          break;
        }
        if (!(await r.refill())) break;
      }
    } catch (e) {
      if (!(e instanceof CaptureFormatError)) throw e;
      out.error = e;
    } finally {
      await r.close().catch(() => undefined);
    }
    return out;
  }

  /**
   * Bytes taken from the source so far (decompressed), whether parsed yet or not. A read ahead
   * under way (a plain file read alone) counts once its buffer is swapped in.
   */
  get bytesRead(): number {
    return this.base + this.end;
  }

  /** Bytes held by this reader's buffers (the one it grows once for a record larger than it, and the read-ahead's). */
  get bufferBytes(): number {
    return this.buf.length + (this.spare?.length ?? 0);
  }

  /**
   * Reads a capture from any byte stream (e.g. a child's stdout: `tcpdump -U -w -`). Resolves once
   * the file header has arrived, which for a live pipe may be only with the first packet.
   */
  static fromStream(name: string, stream: Readable, bufferSize = CHUNK): Promise<CaptureFileReader> {
    return CaptureFileReader.sniff(name, new StreamBytes(stream), Buffer.allocUnsafe(bufferSize), false);
  }

  /** Reads the magic number and picks the parser. */
  private static async sniff(name: string, src: ByteSource, buf: Buffer, compressed: boolean): Promise<CaptureFileReader> {
    let end = 0;
    try {
      while (end < 4) {
        const n = await src.read(buf, end);
        if (n === 0) break;
        end += n;
      }
    } catch (e) {
      await src.close();
      throw new CaptureFormatError(name, end, `read failed: ${(e as Error).message}`);
    }
    if (end < 4) {
      await src.close();
      throw new CaptureFormatError(name, 0, end === 0 ? 'empty file' : 'file too short for a capture header');
    }
    if (!compressed && isGzipMagic(buf, end)) {
      // gzip (a file, stdin or a FIFO alike): the same bytes again, through gunzip, in chunks no
      // larger than the read buffer (many small readers of many gzip files stay small).
      const chunk = Math.min(GZIP_CHUNK, buf.length);
      const gunzip = pipeline(remainderOf(Buffer.from(buf.subarray(0, end)), src, chunk), createGunzip({ chunkSize: chunk }), () => undefined);
      return CaptureFileReader.sniff(name, new StreamBytes(gunzip, src), buf, true);
    }
    const le = buf.readUInt32LE(0);
    const be = buf.readUInt32BE(0);
    let parser: RecordParser;
    if (le === PCAPNG_SHB) parser = new PcapngParser();
    else if ([0xa1b2c3d4, 0xa1b23c4d].includes(le) || [0xa1b2c3d4, 0xa1b23c4d].includes(be)) parser = new PcapParser();
    else {
      await src.close();
      throw new CaptureFormatError(name, 0, `not a pcap or pcapng capture (magic 0x${be.toString(16).padStart(8, '0')})`);
    }
    return new CaptureFileReader(name, src, parser, buf, end, compressed);
  }

  /** Parses the next packet from buffered bytes into `rec`; false when more bytes are needed. */
  next(): boolean {
    for (;;) {
      let s: Step;
      try {
        s = this.parser.step(this.buf, this.pos, this.end, this.rec);
      } catch (e) {
        if (e instanceof RecordError) throw new CaptureFormatError(this.name, this.base + this.pos, e.message);
        throw e;
      }
      if (s === Step.NeedMore) return false;
      this.pos += this.parser.consumed;
      if (s === Step.Packet) {
        this.packets++;
        return true;
      }
    }
  }

  /**
   * Moves the unread tail to the front and reads more. Resolves false at the end of the file;
   * throws CaptureFormatError if the file ends inside a record or the stream is corrupt.
   */
  async refill(): Promise<boolean> {
    if (this.eof) return false;
    if (this.ahead) return this.swapAhead();
    const rest = this.end - this.pos;
    if (this.supply) {
      // A record larger than the buffer (pcapng allows up to 16 MiB): a larger one.
      const next = this.supply(rest === this.buf.length ? Math.min(this.buf.length * 2, this.parser.maxRecord + CHUNK) : this.buf.length);
      this.buf.copy(next, 0, this.pos, this.end);
      this.buf = next;
    } else if (rest > 0 && this.pos > 0) this.buf.copyWithin(0, this.pos, this.end);
    this.base += this.pos;
    this.pos = 0;
    this.end = rest;
    if (this.end === this.buf.length) {
      // A record larger than the buffer (pcapng allows up to 16 MiB): grow once.
      const bigger = Buffer.allocUnsafe(Math.min(this.buf.length * 2, this.parser.maxRecord + CHUNK));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    const n = await this.readOrFail(this.src.read(this.buf, this.end));
    if (n === 0) return this.ended();
    this.end += n;
    this.startReadAhead();
    return true;
  }

  /**
   * A plain file read alone (the 4 MiB buffer, no supply) reads its next bytes while the packets
   * of this buffer are parsed: the read (a copy out of the page cache, 0.2–0.3 s of the 1.1 GB
   * benchmark capture) runs on libuv's thread beside the parsing instead of before it. The bytes
   * land in a second buffer after `maxRecord` bytes of room, where refill puts the unread tail of
   * this one (never more than one record), and the buffers swap. Anything else (streams, the
   * small buffers of many files, pcapng's 16 MiB blocks) reads as before.
   */
  private startReadAhead(): void {
    if (this.supply || !(this.src instanceof FileBytes) || this.buf.length < 4 * this.parser.maxRecord) return;
    if (!this.spare || this.spare.length !== this.buf.length) this.spare = Buffer.allocUnsafe(this.buf.length);
    const ahead = this.src.read(this.spare, this.parser.maxRecord);
    // Its failure is reported by the refill that awaits it; a reader closed first (a stop) never
    // awaits it, and that must not count as an unhandled rejection.
    ahead.catch(() => undefined);
    this.ahead = ahead;
  }

  /** refill with a read ahead under way: the unread tail goes in front of the bytes it brings. */
  private async swapAhead(): Promise<boolean> {
    const head = this.parser.maxRecord;
    const n = await this.readOrFail(this.ahead!);
    this.ahead = null;
    const next = this.spare!;
    const rest = this.end - this.pos;
    const at = head - rest; // the tail is part of one record: rest < maxRecord
    this.buf.copy(next, at, this.pos, this.end);
    this.base += this.pos - at; // base + pos stays the tail's offset in the file (for errors)
    this.spare = this.buf;
    this.buf = next;
    this.pos = at;
    this.end = head;
    if (n === 0) return this.ended();
    this.end += n;
    this.startReadAhead();
    return true;
  }

  private async readOrFail(read: Promise<number>): Promise<number> {
    try {
      return await read;
    } catch (e) {
      this.eof = true;
      // The offset is that of the record we could not complete, as for a plain truncated file.
      throw new CaptureFormatError(this.name, this.base + this.pos, `compressed stream is corrupt or truncated (${(e as Error).message})`);
    }
  }

  /** The input ran out: a record left unfinished at `pos` is an error. */
  private ended(): false {
    this.eof = true;
    if (this.end > this.pos)
      throw new CaptureFormatError(this.name, this.base + this.pos, `file ends inside a record (${this.end - this.pos} bytes of it present)`);
    return false;
  }

  async close(): Promise<void> {
    // A read ahead still under way writes into our buffer: let it finish before the file goes.
    if (this.ahead) await this.ahead.catch(() => 0);
    this.ahead = null;
    return this.src.close();
  }
}
