import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Writes a classic pcap file (microsecond resolution, little-endian), buffering records so that
 * writing millions of packets costs one syscall per ~1 MiB. Used by `dump -w`, the crafted
 * captures and the benchmark generator.
 */
export class PcapWriter {
  private readonly out: WriteStream;
  private buf: Buffer;
  private used = 0;
  packets = 0;

  constructor(
    path: string,
    linktype: number,
    snaplen = 262144,
    private readonly flushAt = 1 << 20,
  ) {
    this.out = createWriteStream(path);
    this.buf = Buffer.allocUnsafe(flushAt + 65536 + 16);
    this.buf.writeUInt32LE(0xa1b2c3d4, 0);
    this.buf.writeUInt16LE(2, 4);
    this.buf.writeUInt16LE(4, 6);
    this.buf.writeInt32LE(0, 8);
    this.buf.writeUInt32LE(0, 12);
    this.buf.writeUInt32LE(snaplen, 16);
    this.buf.writeUInt32LE(linktype, 20);
    this.used = 24;
  }

  /** Appends one record; `tsSec`/`tsUsec` are the capture time; `origLen` defaults to the frame length. */
  write(frame: Uint8Array, tsSec: number, tsUsec: number, origLen = frame.length): Promise<void> | undefined {
    const need = 16 + frame.length;
    if (this.used + need > this.buf.length) this.buf = growCopy(this.buf, this.used, this.used + need);
    const b = this.buf;
    let o = this.used;
    b.writeUInt32LE(tsSec >>> 0, o);
    b.writeUInt32LE(tsUsec >>> 0, o + 4);
    b.writeUInt32LE(frame.length, o + 8);
    b.writeUInt32LE(origLen, o + 12);
    o += 16;
    b.set(frame, o);
    this.used = o + frame.length;
    this.packets++;
    if (this.used >= this.flushAt) return this.flush();
    return undefined;
  }

  /** Hands the buffered records to the file; resolves when the stream can take more. */
  flush(): Promise<void> | undefined {
    if (this.used === 0) return undefined;
    const chunk = Buffer.from(this.buf.subarray(0, this.used));
    this.used = 0;
    if (!this.out.write(chunk)) return once(this.out, 'drain').then(() => undefined);
    return undefined;
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

function growCopy(b: Buffer, used: number, need: number): Buffer {
  const n = Buffer.allocUnsafe(Math.max(need, b.length * 2));
  b.copy(n, 0, 0, used);
  return n;
}
