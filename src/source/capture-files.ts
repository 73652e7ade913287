import { CaptureFileReader, CHUNK, isReopenable } from './capture-file.js';
import { byFirstPacket, mergeInTimeOrder } from './capture-merge.js';
import { CaptureFormatError, type PacketRecord } from './packet-record.js';

export interface FileReport {
  /** The file's path as given. */
  file: string;
  /** Its format (`unknown`: not recognised, or not read). */
  format: 'pcap' | 'pcapng' | 'unknown';
  /** It was compressed (gzip, bzip2, xz, zstd). */
  compressed: boolean;
  /** Packets read from it. */
  packets: number;
  /** Set when the file could not be read to its end. */
  error?: {
    /** Byte offset of the problem (in the uncompressed stream). */
    offset: number;
    /** What was wrong. */
    reason: string;
    /** The message, naming the file. */
    message: string;
  };
}

/**
 * Feeds the packets of several capture files to `onPacket` in timestamp order (the k-way merge of
 * capture-merge.ts, which dump uses too: each file is assumed to be in time order itself, as
 * capture tools write them; on equal timestamps the file named first goes first). A file that
 * fails is reported and dropped; the others go on, and every packet read before the failure counts.
 * `stop` aborted (nobody reads the result any more: `replay | head -1`) closes the inputs, even a
 * pipe that has gone quiet, and ends the reading at once, without errors.
 * `onPacket` may return a promise (`watch --replay --pace` sleeping until the packet is due): the
 * next packet is read once it settles; `rec` stays valid until then. Returning nothing costs one
 * check per packet.
 */
export type OnPacket = (rec: PacketRecord) => void | Promise<void>;

/** Open files and read-buffer bytes of one readCaptureFiles call, now and at their peak. */
export interface CaptureReadStats {
  openFiles: number;
  peakOpenFiles: number;
  bufferBytes: number;
  peakBufferBytes: number;
}

export const newCaptureReadStats = (): CaptureReadStats => ({ openFiles: 0, peakOpenFiles: 0, bufferBytes: 0, peakBufferBytes: 0 });

export interface CaptureReadOptions {
  /** Read-buffer bytes all the files of a multi-file read share (default BUFFER_BUDGET). */
  bufferBudget?: number;
  /** Filled in as the files are opened and closed. */
  stats?: CaptureReadStats;
  /** One file only: the reader's buffers come from here (CaptureFileReader.supply). */
  supply?: (size: number) => Buffer;
}

/** What the read buffers of several capture files may hold in total. */
export const BUFFER_BUDGET = 64 * 1024 * 1024;
/** The smallest read buffer of a file (one grows once for a larger record). */
export const MIN_FILE_BUFFER = 64 * 1024;

/**
 * The read buffer of each of `n` files sharing `budget`: budget / n, rounded down to a power of
 * two, between MIN_FILE_BUFFER and CHUNK (the one-file buffer). All n open at once stay within
 * the budget while n ≤ budget / MIN_FILE_BUFFER (1,024 files for 64 MiB).
 */
export function fileBufferSize(n: number, budget = BUFFER_BUDGET): number {
  const share = Math.floor(budget / Math.max(1, n));
  let size = MIN_FILE_BUFFER;
  while (size * 2 <= share && size * 2 <= CHUNK) size *= 2;
  return size;
}

/** Counts a reader's buffer in `stats` (open: +1, close: -1, grown: 0 with its new size). */
class Tracker {
  private readonly held = new Map<CaptureFileReader, number>();
  constructor(readonly stats: CaptureReadStats) {}
  opened(r: CaptureFileReader): void {
    this.stats.openFiles++;
    if (this.stats.openFiles > this.stats.peakOpenFiles) this.stats.peakOpenFiles = this.stats.openFiles;
    this.resized(r);
  }
  resized(r: CaptureFileReader): void {
    const was = this.held.get(r) ?? 0;
    if (was === r.bufferBytes) return;
    this.held.set(r, r.bufferBytes);
    this.stats.bufferBytes += r.bufferBytes - was;
    if (this.stats.bufferBytes > this.stats.peakBufferBytes) this.stats.peakBufferBytes = this.stats.bufferBytes;
  }
  closed(r: CaptureFileReader): void {
    const was = this.held.get(r);
    if (was === undefined) return;
    this.held.delete(r);
    this.stats.openFiles--;
    this.stats.bufferBytes -= was;
  }
  /** The readers still open (closed on abort). */
  open(): IterableIterator<CaptureFileReader> {
    return this.held.keys();
  }
}

export async function readCaptureFiles(files: string[], onPacket: OnPacket, stop?: AbortSignal, options: CaptureReadOptions = {}): Promise<FileReport[]> {
  const reports: FileReport[] = files.map((file) => ({ file, format: 'unknown', compressed: false, packets: 0 }));
  const fail = (i: number, e: unknown): void => {
    if (stop?.aborted) return; // the inputs were closed under their readers
    const r = reports[i]!;
    if (e instanceof CaptureFormatError) r.error = { offset: e.offset, reason: e.reason, message: e.message };
    else throw e;
  };
  const tracker = new Tracker(options.stats ?? newCaptureReadStats());
  const closeAll = (): void => {
    for (const r of tracker.open()) void r.close().catch(() => undefined);
  };
  stop?.addEventListener('abort', closeAll, { once: true });
  try {
    if (files.length === 1) await readOne(files[0]!, onPacket, stop, reports[0]!, tracker, fail, options.supply ?? null);
    else await readMany(files, onPacket, stop, reports, tracker, fail, options.bufferBudget ?? BUFFER_BUDGET);
    return reports;
  } finally {
    stop?.removeEventListener('abort', closeAll);
  }
}

/** Single file: the tight loop, with its 4 MiB buffer, no per-packet await and no merge comparisons. */
async function readOne(
  file: string,
  onPacket: OnPacket,
  stop: AbortSignal | undefined,
  report: FileReport,
  tracker: Tracker,
  fail: (i: number, e: unknown) => void,
  supply: ((size: number) => Buffer) | null,
): Promise<void> {
  let r: CaptureFileReader;
  try {
    r = await CaptureFileReader.open(file, stop, CHUNK, supply);
  } catch (e) {
    fail(0, e);
    return;
  }
  report.format = r.format;
  report.compressed = r.compressed;
  tracker.opened(r);
  try {
    reading: for (;;) {
      while (r.next()) {
        const wait = onPacket(r.rec);
        if (wait) {
          await wait;
          if (stop?.aborted) break reading;
        }
      }
      if (stop?.aborted || !(await r.refill())) break;
      tracker.resized(r);
    }
  } catch (e) {
    fail(0, e);
  }
  report.packets = r.packets;
  tracker.closed(r);
  await r.close().catch(() => undefined);
}

/** A file in the merge: its index in `files` (and `reports`), and its reader. */
interface Input {
  readonly i: number;
  readonly reader: CaptureFileReader;
}

/** A regular file not opened yet, and when it is due. */
interface Later {
  readonly at: number;
  readonly tsSec: number;
  readonly tsNsec: number;
}

/**
 * Several files: each regular file (plain or gzip) is peeked at — opened, read to its first
 * packet, closed — and opened for good only when the merge reaches that packet, with a read
 * buffer of fileBufferSize(files.length); it is closed as soon as it runs out. Standard input,
 * FIFOs and `<(…)` cannot be read twice: they are opened at the start, as before, with the same
 * buffer, and stay open (counted in the stats) until they run out.
 */
async function readMany(
  files: string[],
  onPacket: OnPacket,
  stop: AbortSignal | undefined,
  reports: FileReport[],
  tracker: Tracker,
  fail: (i: number, e: unknown) => void,
  budget: number,
): Promise<void> {
  const size = fileBufferSize(files.length, budget);
  const inputs: Input[] = [];
  const pending: Later[] = [];
  for (let i = 0; i < files.length; i++) {
    if (stop?.aborted) return;
    const file = files[i]!;
    try {
      if (await isReopenable(file)) {
        const p = await CaptureFileReader.peek(file, MIN_FILE_BUFFER);
        reports[i]!.format = p.format;
        reports[i]!.compressed = p.compressed;
        if (p.error) fail(i, p.error);
        else if (p.first) pending.push({ at: i, tsSec: p.first.tsSec, tsNsec: p.first.tsNsec });
      } else {
        const r = await CaptureFileReader.open(file, stop, size);
        reports[i]!.format = r.format;
        reports[i]!.compressed = r.compressed;
        tracker.opened(r);
        inputs.push({ i, reader: r });
      }
    } catch (e) {
      fail(i, e);
    }
  }
  pending.sort(byFirstPacket);

  /** A reader that ran out or failed: closed and reported; always false (no packet). */
  const end = async (x: Input, e?: unknown): Promise<false> => {
    reports[x.i]!.packets = x.reader.packets;
    tracker.closed(x.reader);
    await x.reader.close().catch(() => undefined);
    if (e !== undefined) fail(x.i, e);
    return false;
  };

  /** Refills a reader until it has its next packet; false (and closed) when it has none left. */
  const advance = async (x: Input): Promise<boolean> => {
    const r = x.reader;
    try {
      while (!r.next()) {
        if (stop?.aborted || !(await r.refill())) return await end(x);
        tracker.resized(r);
      }
      return true;
    } catch (e) {
      return end(x, e);
    }
  };

  // The next packet of a file is taken synchronously while its reader has one buffered, so only
  // a refill or an opening awaits.
  const next = (x: Input): true | Promise<boolean> => {
    try {
      if (x.reader.next()) return true;
    } catch (e) {
      return end(x, e);
    }
    return advance(x);
  };

  const open = async (l: Later): Promise<Input | null> => {
    try {
      const reader = await CaptureFileReader.open(files[l.at]!, stop, size);
      tracker.opened(reader);
      return { i: l.at, reader };
    } catch (e) {
      fail(l.at, e);
      return null;
    }
  };

  await mergeInTimeOrder(
    inputs,
    next,
    (x) => onPacket(x.reader.rec),
    () => stop?.aborted === true,
    { pending, at: (x) => x.i, open },
  );
}
