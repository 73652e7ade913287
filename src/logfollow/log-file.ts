/**
 * The files a LogFollower reads (log-follower.ts): opening one (a regular file, the reason remembered
 * when it cannot be opened), the hash-able head that identifies it across restarts, the plain rotated
 * siblings (`path.1`, `path-YYYYMMDD`; compressed ones never), and one open file being read.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const HEAD_BYTES = 256;

/** Rotated siblings that are compressed are never read. */
const COMPRESSED = /\.(gz|xz|zst|bz2|lz4|lzma|z|zip|Z)$/;

/** The sha1 of the first line (at most HEAD_BYTES) of an open file, and its length. */
export function headOf(fd: number, len?: number): { head: string; headLen: number; complete: boolean } {
  const buf = Buffer.alloc(len ?? HEAD_BYTES);
  const n = readSync(fd, buf, 0, buf.length, 0);
  let take = n;
  let complete = n === HEAD_BYTES;
  if (len === undefined) {
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl >= 0) {
      take = nl + 1;
      complete = true;
    }
  }
  return { head: createHash('sha1').update(buf.subarray(0, take)).digest('hex'), headLen: take, complete };
}

/**
 * The plain (not compressed) rotated siblings of `path`: `path.1`, `path.0`, `path-20261205`,
 * `path-20261205.1` …, newest first by modification time.
 */
export function rotatedSiblings(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { p: string; m: number }[] = [];
  for (const n of names) {
    if (!n.startsWith(base) || n === base || COMPRESSED.test(n)) continue;
    const rest = n.slice(base.length);
    if (!/^(\.\d+|-\d{8}(\d{2})?(\.\d+)?)$/.test(rest)) continue;
    try {
      const st = statSync(join(dir, n));
      if (st.isFile()) out.push({ p: join(dir, n), m: st.mtimeMs });
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => b.m - a.m).map((x) => x.p);
}

/** The last reason a file could not be opened other than "not there" (EACCES, EISDIR …), by path. */
export const openErrors = new Map<string, string>();

export function tryOpen(path: string): { fd: number; st: Stats } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') openErrors.delete(path);
    else openErrors.set(path, code);
    return null;
  }
  openErrors.delete(path);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      openErrors.set(path, 'not a regular file');
      return null;
    }
    return { fd, st };
  } catch {
    closeSync(fd);
    return null;
  }
}

/** One open file being read: its descriptor, identity, read offset and the held partial line. */
export class Reader {
  /** Bytes of an unfinished line (at most maxLine). */
  partial: Buffer = Buffer.alloc(0);
  /** Dropping the rest of a line that was cut. */
  skipping = false;
  head: { head: string; headLen: number; complete: boolean };
  idleSince = 0;
  constructor(
    readonly fd: number,
    readonly ino: number,
    readonly dev: number,
    public offset: number,
  ) {
    this.head = headOf(fd);
  }
  /** The offset of the first byte not yet handed out as part of a line. */
  get committed(): number {
    return this.offset - this.partial.length;
  }
  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
