import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { looksLikeWatchLog } from './tarpit.js';

/**
 * Tells a capture from a log by content, not by name: pcap (µs/ns, either byte order) or pcapng,
 * optionally gzip-compressed, is a capture; anything else (text, or bzip2/xz/zstd logs) a log.
 * Only a regular file can be looked into without using it up: `-`, a FIFO, a process
 * substitution (`<(…)`) or a device is taken as a log (`--capture` names a capture stream), and
 * a directory goes to the log reader, which names it in its error.
 */
export function looksLikeCapture(file: string): boolean {
  return inputKind(file) === 'capture';
}

/**
 * What a named input is, by content: a capture (as above), a watch log (pino JSON lines with
 * `event` fields in its first 64 KiB, plain or gzip: see looksLikeWatchLog), or else a log. A
 * watch log compressed otherwise (bzip2, xz, zstd), or arriving as a stream, is read as a log,
 * where its pino lines are recognised one by one all the same (logs.ts).
 */
export function inputKind(file: string): 'capture' | 'watch' | 'log' {
  if (file === '-') return 'log';
  let fd: number;
  try {
    // Not opened unless regular: opening a FIFO and closing it again would end its writer.
    if (!statSync(file).isFile()) return 'log';
    fd = openSync(file, 'r');
  } catch {
    return 'log'; // the log reader reports the error
  }
  try {
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let head = buf.subarray(0, n);
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      try {
        head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
      } catch {
        return 'log';
      }
    }
    if (isCaptureMagic(head)) return 'capture';
    return looksLikeWatchLog(Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8')) ? 'watch' : 'log';
  } finally {
    closeSync(fd);
  }
}

export function isCaptureMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const m = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 || m === 0x0a0d0d0a;
}
