/**
 * A BPF filter on a capture file, applied the way the issue asks: the file goes through
 * `tcpdump -r FILE -w - EXPR` and its pcap output is read as any capture stream. Compressed files
 * standard input, FIFOs and `<(…)` are decompressed/passed by us and given to tcpdump as `-r -`. Without tcpdump
 * the dump stops with an error that says so (no filter is silently ignored).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { captureByteStream, CaptureFileReader } from '../source/capture-file.js';
import { CaptureFormatError } from '../source/packet-record.js';

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/** tcpdump could not read a capture (its own words): a read error of that file, not bad usage. */
export class TcpdumpReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TcpdumpReadError';
  }
}

export function tcpdumpMissing(expr: string): FilterError {
  return new FilterError(
    `the filter "${expr}" needs tcpdump to be applied to a capture file, and tcpdump is not installed ` +
      '(apt-get install tcpdump); without a filter, dump reads the file itself',
  );
}

export interface FilteredFile {
  reader: CaptureFileReader;
  /** Resolves when tcpdump has exited; rejects with its complaint when it failed. */
  done: Promise<void>;
  child: ChildProcess;
}

/**
 * Whether tcpdump can be given the file's name: a regular file that is not gzip. Anything else
 * (stdin, a FIFO, `<(…)`, gzip) we read and feed it. A FIFO is never opened here: opening and
 * closing it would end its writer.
 */
async function tcpdumpReadsItself(file: string): Promise<boolean> {
  if (file === '-' || !(await stat(file)).isFile()) return false;
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return !(bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b);
  } finally {
    await fh.close();
  }
}

/** Starts `tcpdump -r … -w - EXPR` for one file; resolves once its output header has arrived. */
export async function openFiltered(file: string, expr: string, tcpdump = 'tcpdump', bufferSize?: number): Promise<FilteredFile> {
  let input: Readable | null = null;
  try {
    if (!(await tcpdumpReadsItself(file))) input = await captureByteStream(file);
  } catch (e) {
    if (e instanceof CaptureFormatError) throw e;
    throw new CaptureFormatError(file, 0, `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const args = ['-r', input ? '-' : file, '-w', '-', '--', expr];
  const child = spawn(tcpdump, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? tcpdumpMissing(expr) : new FilterError(`cannot run tcpdump: ${e.message}`)));
  });
  await spawned;
  if (input) {
    child.stdin!.on('error', () => undefined); // tcpdump may stop reading (bad filter): not our error
    input.on('error', () => child.stdin!.destroy());
    input.pipe(child.stdin!);
  }
  const done = new Promise<void>((resolve, reject) => {
    child.once('close', (code, signal) => {
      if (code === 0 || signal === 'SIGTERM' || signal === 'SIGPIPE') return resolve();
      const said = stderr
        .split('\n')
        .map((l) => l.replace(/^tcpdump: /, '').trim())
        .filter((l) => l !== '' && !/^reading from file/.test(l))
        .join('; ');
      reject(
        /syntax error|expression|illegal|parse|unknown (host|port|protocol|network)/i.test(said)
          ? new FilterError(`bad filter "${expr}": ${said}`)
          : new TcpdumpReadError(`${file}: tcpdump could not read it: ${said || `exit status ${code}`}`),
      );
    });
  });
  done.catch(() => undefined);
  try {
    const reader = await CaptureFileReader.fromStream(`${file} (filtered by tcpdump)`, child.stdout!, bufferSize);
    return { reader, done, child };
  } catch (e) {
    // No output at all: tcpdump's own complaint says why.
    await done;
    throw e;
  }
}
