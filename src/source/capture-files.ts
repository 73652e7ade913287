import { CaptureFileReader } from './capture-file.js';
import { mergeInTimeOrder } from './capture-merge.js';
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

export async function readCaptureFiles(files: string[], onPacket: OnPacket, stop?: AbortSignal): Promise<FileReport[]> {
  const reports: FileReport[] = files.map((file) => ({ file, format: 'unknown', compressed: false, packets: 0 }));
  const fail = (i: number, e: unknown): void => {
    if (stop?.aborted) return; // the inputs were closed under their readers
    const r = reports[i]!;
    if (e instanceof CaptureFormatError) r.error = { offset: e.offset, reason: e.reason, message: e.message };
    else throw e;
  };
  const readers: (CaptureFileReader | null)[] = [];
  const closeAll = (): void => {
    for (const r of readers) void r?.close().catch(() => undefined);
  };
  stop?.addEventListener('abort', closeAll, { once: true });
  try {
    return await readAll(files, onPacket, stop, reports, readers, fail);
  } finally {
    stop?.removeEventListener('abort', closeAll);
  }
}

/** A file in the merge: its index in `files` (and `reports`), and its reader. */
interface Input {
  readonly i: number;
  readonly reader: CaptureFileReader;
}

async function readAll(
  files: string[],
  onPacket: OnPacket,
  stop: AbortSignal | undefined,
  reports: FileReport[],
  readers: (CaptureFileReader | null)[],
  fail: (i: number, e: unknown) => void,
): Promise<FileReport[]> {
  for (let i = 0; i < files.length; i++) {
    if (stop?.aborted) break;
    try {
      const r = await CaptureFileReader.open(files[i]!, stop);
      reports[i]!.format = r.format;
      reports[i]!.compressed = r.compressed;
      readers.push(r);
    } catch (e) {
      fail(i, e);
      readers.push(null);
    }
  }

  /** Moves reader i to its next packet; false (and closed) when it has none left. */
  const advance = async (i: number): Promise<boolean> => {
    const r = readers[i];
    if (!r) return false;
    try {
      while (!r.next()) {
        if (stop?.aborted || !(await r.refill())) {
          reports[i]!.packets = r.packets;
          await r.close().catch(() => undefined);
          readers[i] = null;
          return false;
        }
      }
      return true;
    } catch (e) {
      return end(i, r, e);
    }
  };

  /** A reader that failed: closed and reported; always false (no packet). */
  const end = async (i: number, r: CaptureFileReader, e: unknown): Promise<false> => {
    reports[i]!.packets = r.packets;
    await r.close().catch(() => undefined);
    readers[i] = null;
    fail(i, e);
    return false;
  };

  if (readers.length === 1) {
    // Single file: the tight loop, with no per-packet await and no merge comparisons.
    const r = readers[0];
    if (r) {
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
        }
      } catch (e) {
        fail(0, e);
      }
      reports[0]!.packets = r.packets;
      await r.close().catch(() => undefined);
    }
    return reports;
  }

  // Several files: the k-way merge; the next packet of a file is taken synchronously while its
  // reader has one buffered, so only a refill awaits.
  const inputs: Input[] = [];
  readers.forEach((reader, i) => {
    if (reader) inputs.push({ i, reader });
  });
  const next = (x: Input): true | Promise<boolean> => {
    try {
      if (x.reader.next()) return true;
    } catch (e) {
      return end(x.i, x.reader, e);
    }
    return advance(x.i);
  };
  await mergeInTimeOrder(
    inputs,
    next,
    (x) => onPacket(x.reader.rec),
    () => stop?.aborted === true,
  );
  return reports;
}
