/**
 * `smtpstrike dump`: capture files (-r, merged in time order) or a live interface (-i) → one
 * tcpdump-style line per packet (PacketPrinter), optional -A/-X payload, and under it the SMTP
 * lines and strike marks the real pipeline produced for that packet (SmtpAnnotator).
 */
import { closeSync, openSync } from 'node:fs';
import { Output } from '../io/output.js';
import { createLiveSource, type LiveBackend, type LiveSource } from '../live/index.js';
import { TcpdumpSource } from '../live/tcpdump-source.js';
import { Pipeline, type PipelineOptions } from '../pipeline.js';
import { CaptureFileReader, isReopenable } from '../source/capture-file.js';
import { byFirstPacket, mergeInTimeOrder } from '../source/capture-merge.js';
import { fileBufferSize, MIN_FILE_BUFFER } from '../source/capture-files.js';
import { CaptureFormatError, type PacketRecord } from '../source/packet-record.js';
import { PcapWriter } from '../source/pcap-writer.js';
import { SmtpAnnotator } from './annotator.js';
import { FilterError, openFiltered, TcpdumpReadError, type FilteredFile } from './offline-filter.js';
import { PacketPrinter } from './packet-printer.js';
import { asciiText, hexAsciiLines, LocalClock } from './text.js';

export interface DumpSettings {
  /** -r: capture files ('-' = standard input); empty for a live capture. */
  files: string[];
  /** -i: live interface, or null. */
  iface: string | null;
  /** -c: stop after this many packets (0 = no limit). */
  count: number;
  /** BPF expression ('' = none). */
  filter: string;
  /** -A / -X payload printing (-X wins, as in tcpdump). */
  ascii: boolean;
  hex: boolean;
  /** -S: absolute TCP sequence numbers. */
  absoluteSeq: boolean;
  /** -w: also write the packets shown to this pcap file. */
  writeFile: string | null;
  /** -l: write each packet's text at once (always so when live). */
  lineBuffered: boolean;
  /** SMTP lines and strike marks under the packets (--no-smtp: plain tcpdump output). */
  smtp: boolean;
  /** --redact: packet lines without tcpdump's payload text (no -A/-X then). */
  redact?: boolean;
  /** Live: snapshot length, capture backend, kernel buffer (bytes, 0 = libpcap's default). */
  snaplen: number;
  captureBackend: LiveBackend;
  bufferSize: number;
  pipeline: PipelineOptions;
  /** tcpdump binary for offline filters (tests). */
  tcpdumpPath?: string;
}

export const EXIT_USAGE = 1;
export const EXIT_READ_ERROR = 2;

/** Runs a dump to `out`; resolves to the exit code. */
export async function runDump(
  s: DumpSettings,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const warn = (m: string): void => {
    stderr.write(`smtpstrike: ${m}\n`);
  };
  if (s.writeFile) {
    // Fail before printing anything when the -w file cannot be written (the writer opens it later).
    try {
      closeSync(openSync(s.writeFile, 'w'));
    } catch (e) {
      warn(`cannot write -w ${s.writeFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return EXIT_USAGE;
    }
  }
  const out = Output.of(stdout);
  const d = new Dumper(s, out);
  let interrupted = false;
  let wake: (() => void) | null = null;
  const onSignal = (): void => {
    interrupted = true;
    d.stop = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (s.iface !== null) {
      return await runLive(s, d, out, stderr, warn, (f) => {
        wake = f;
      });
    }
    const code = await runFiles(s, d, out, warn, (f) => {
      wake = f;
    });
    if (code === EXIT_USAGE) return code;
    if (interrupted) stderr.write(`${d.shown} packet${d.shown === 1 ? '' : 's'} captured\n`);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await d.close(warn);
    await out.end();
  }
}

class Dumper {
  readonly clock = new LocalClock();
  readonly printer: PacketPrinter;
  readonly pipeline: Pipeline | null;
  readonly annotator: SmtpAnnotator | null;
  private writer: PcapWriter | null = null;
  private writerLinktype = -1;
  private notWritten = 0;
  shown = 0;
  stop = false;

  constructor(
    private readonly s: DumpSettings,
    private readonly out: Output,
  ) {
    this.printer = new PacketPrinter({ absoluteSeq: s.absoluteSeq, suppressDefaultDump: s.hex, noPayloadText: s.redact === true });
    if (s.smtp) {
      // The pipeline's sink is the annotator; the annotator reads the pipeline: tie them after construction.
      let ann: SmtpAnnotator | null = null;
      const pipeline = new Pipeline(s.pipeline, { event: (ev) => ann!.event(ev) });
      ann = new SmtpAnnotator(pipeline, this.clock);
      pipeline.smtpObserver = ann;
      if (s.iface) pipeline.iface = s.iface;
      this.pipeline = pipeline;
      this.annotator = ann;
    } else {
      this.pipeline = null;
      this.annotator = null;
    }
  }

  /** Prints one packet and what it completed; returns a promise when the -w file wants a pause. */
  show(rec: PacketRecord): Promise<void> | undefined {
    const s = this.s;
    let text: string;
    if (rec.caplen === 0 || rec.origlen < rec.caplen) {
      // What tcpdump prints, without a time stamp, for a record header it does not believe (the
      // readers already raise a wire length below the captured length to the captured length).
      text =
        rec.caplen === 0
          ? `[Invalid header: caplen==0${rec.origlen === 0 ? ', len==0' : ''}]\n`
          : `[Invalid header: len(${rec.origlen}) < caplen(${rec.caplen})]\n`;
    } else {
      text = this.clock.stamp(rec.tsSec, rec.tsNsec) + ' ' + this.printer.print(rec);
      const po = this.printer.payloadOff;
      const end = rec.off + rec.caplen;
      if (po >= 0 && end > po) {
        if (s.hex) text += hexAsciiLines(rec.buf, po, end);
        else if (s.ascii) text += asciiText(rec.buf, po, end);
      }
      text += '\n';
    }
    const a = this.annotator;
    if (a) {
      a.inPacket = true;
      try {
        this.pipeline!.packet(rec);
        for (const l of a.take()) text += l + '\n';
      } finally {
        a.inPacket = false;
      }
    }
    this.out.write(text);
    this.shown++;
    if (s.count > 0 && this.shown >= s.count) this.stop = true;
    if (s.writeFile) return this.save(rec);
    return undefined;
  }

  private save(rec: PacketRecord): Promise<void> | undefined {
    if (!this.writer) {
      this.writer = new PcapWriter(this.s.writeFile!, rec.linktype);
      this.writerLinktype = rec.linktype;
    }
    if (rec.linktype !== this.writerLinktype) {
      this.notWritten++;
      return undefined;
    }
    return this.writer.write(rec.buf.subarray(rec.off, rec.off + rec.caplen), rec.tsSec, Math.floor(rec.tsNsec / 1000), rec.origlen);
  }

  /** End of input: flows still open are closed, and what that completes is printed. */
  finish(): void {
    const a = this.annotator;
    if (!a) return;
    this.pipeline!.finish();
    const lines = a.take();
    if (lines.length) this.out.write(lines.join('\n') + '\n');
  }

  async close(warn: (m: string) => void): Promise<void> {
    if (this.s.writeFile) {
      this.writer ??= new PcapWriter(this.s.writeFile, 1);
      await this.writer.close();
      if (this.notWritten > 0) {
        warn(
          `-w ${this.s.writeFile}: ${this.notWritten} packet(s) with another link type than the first packet's (${this.writerLinktype}) were shown but not written`,
        );
      }
    }
  }
}

interface Source {
  name: string;
  reader: CaptureFileReader;
  filtered: FilteredFile | null;
  /** Its place in `files` (ties in the merge go to the file named first). */
  at: number;
}

/** A file not opened yet: when its first packet is due (see readCaptureFiles for replay's). */
interface LaterFile {
  readonly at: number;
  readonly tsSec: number;
  readonly tsNsec: number;
}

async function runFiles(s: DumpSettings, d: Dumper, out: Output, warn: (m: string) => void, onStop: (f: () => void) => void): Promise<number> {
  let code = 0;
  const sources: Source[] = [];
  const many = s.files.length > 1;
  // One file keeps the 4 MiB buffer; several share the budget (capture-files.ts).
  const size = many ? fileBufferSize(s.files.length) : undefined;
  // A signal while a read waits (a pipe on stdin that has gone quiet): close the inputs so it ends.
  const opened = new Set<Source>();
  onStop(() => {
    for (const src of opened) {
      src.filtered?.child.kill('SIGTERM');
      void src.reader.close().catch(() => undefined);
    }
  });
  const closeAll = async (): Promise<void> => {
    for (const src of opened) {
      src.filtered?.child.kill('SIGTERM');
      await src.reader.close().catch(() => undefined);
    }
  };
  const openSource = async (name: string, at: number): Promise<Source> => {
    let src: Source;
    if (s.filter) {
      const f = await openFiltered(name, s.filter, s.tcpdumpPath, size);
      src = { name, reader: f.reader, filtered: f, at };
    } else {
      src = { name, reader: await CaptureFileReader.open(name, undefined, size), filtered: null, at };
    }
    opened.add(src);
    return src;
  };
  /** A file that cannot be opened; true when the dump must stop (a bad filter). */
  const openFailed = async (name: string, e: unknown): Promise<boolean> => {
    if (e instanceof FilterError) {
      warn(e.message);
      await closeAll();
      return true;
    }
    // A capture that cannot be opened (missing, a directory, not a capture) is reported; the others go on.
    warn(e instanceof CaptureFormatError || e instanceof TcpdumpReadError ? e.message : `${name}: ${(e as Error).message}`);
    code = EXIT_READ_ERROR;
    return false;
  };
  // Several files: a regular file whose first packet can be read is opened only when the merge
  // reaches that packet (with a filter, tcpdump is started then); anything else — stdin, FIFOs,
  // a file that cannot be read as far as a packet — is opened now, as one file is, and reports
  // its trouble now.
  const pending: LaterFile[] = [];
  for (const [at, name] of s.files.entries()) {
    try {
      if (many && (await isReopenable(name))) {
        const p = await CaptureFileReader.peek(name, MIN_FILE_BUFFER).catch(() => null);
        if (p?.first && !p.error) {
          // tcpdump -w writes microseconds: the filtered first packet is no earlier than this.
          const tsNsec = s.filter ? p.first.tsNsec - (p.first.tsNsec % 1000) : p.first.tsNsec;
          pending.push({ at, tsSec: p.first.tsSec, tsNsec });
          continue;
        }
        if (p && !p.error && !s.filter) continue; // no packet at all (with a filter, tcpdump still reads it)
      }
      sources.push(await openSource(name, at));
    } catch (e) {
      if (await openFailed(name, e)) return EXIT_USAGE;
    }
  }
  pending.sort(byFirstPacket);
  let usage = false;
  const openLater = async (l: LaterFile): Promise<Source | null> => {
    const name = s.files[l.at]!;
    try {
      return await openSource(name, l.at);
    } catch (e) {
      if (await openFailed(name, e)) usage = true;
      return null;
    }
  };

  /** Moves a source to its next packet; false (closed) when it has none left. */
  const advance = async (src: Source): Promise<boolean> => {
    try {
      while (!src.reader.next()) {
        if (!(await src.reader.refill())) {
          opened.delete(src);
          await src.reader.close();
          if (src.filtered) await src.filtered.done;
          return false;
        }
      }
      return true;
    } catch (e) {
      return stopOn(src, e);
    }
  };

  /**
   * The next packet of a source: synchronously when it is already buffered (the common case),
   * else through advance(). A corrupt record met here is handled as in advance() — reported,
   * exit status 2, and the other sources and the end-of-input lines still go on.
   */
  const nextPacket = (src: Source): true | Promise<boolean> => {
    try {
      if (src.reader.next()) return true;
    } catch (e) {
      return stopOn(src, e);
    }
    return advance(src);
  };

  /** A source that failed: closed and reported; always false (no packet). */
  const stopOn = async (src: Source, e: unknown): Promise<false> => {
    opened.delete(src);
    await src.reader.close().catch(() => undefined);
    if (d.stop) return false; // interrupted: the inputs were closed under the reader
    if (e instanceof FilterError || e instanceof TcpdumpReadError) {
      warn(e.message);
      code = EXIT_READ_ERROR;
      return false;
    }
    if (!(e instanceof CaptureFormatError)) throw e;
    // With a filter, tcpdump's own complaint (if it failed) is the better message.
    if (src.filtered) {
      try {
        await src.filtered.done;
      } catch (fe) {
        warn((fe as Error).message);
        code = EXIT_READ_ERROR;
        return false;
      }
    }
    warn(e.message);
    code = EXIT_READ_ERROR;
    return false;
  };

  /** After a packet is shown: flush if asked, and wait while the output asks to. */
  const drained = (): Promise<void> | null => {
    if (s.lineBuffered) out.flush();
    return out.ready();
  };
  const ranOut = await mergeInTimeOrder(
    sources,
    nextPacket,
    (src) => {
      const pause = d.show(src.reader.rec);
      return pause ? pause.then(drained) : drained();
    },
    () => d.stop || out.closed || usage,
    { pending, at: (src) => src.at, open: openLater },
  );
  const ended = ranOut && !d.stop && !out.closed && !usage;
  await closeAll();
  if (usage) return EXIT_USAGE;
  if (ended) d.finish();
  return code;
}

async function runLive(
  s: DumpSettings,
  d: Dumper,
  out: Output,
  stderr: NodeJS.WritableStream,
  warn: (m: string) => void,
  onStop: (f: () => void) => void,
): Promise<number> {
  let source: LiveSource;
  let failure: Error | null = null;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  onStop(wake);
  try {
    source = createLiveSource(s.captureBackend, {
      iface: s.iface!,
      filter: s.filter,
      bufferSize: s.bufferSize,
      snaplen: s.snaplen,
      onError: (e) => {
        failure = e;
        wake();
      },
    });
    await source.start((rec) => {
      if (d.stop || out.closed) return;
      void d.show(rec);
      out.flush();
      if (d.stop || out.closed) wake();
    });
  } catch (e) {
    warn((e as Error).message);
    return EXIT_USAGE;
  }
  if (source instanceof TcpdumpSource && source.listening) stderr.write(`${source.listening}\n`);
  const poll = setInterval(() => {
    if (out.closed) wake();
  }, 200);
  await stopped;
  clearInterval(poll);
  d.stop = true;
  await source.stop();
  const st = await source.stats();
  let line = `${d.shown} packet${d.shown === 1 ? '' : 's'} captured`;
  if (st.received !== null) line += `, ${st.received} packet${st.received === 1 ? '' : 's'} received by filter`;
  if (st.dropped !== null) line += `, ${st.dropped} packet${st.dropped === 1 ? '' : 's'} dropped by kernel`;
  if (st.received === null && st.dropped === null) line += ` (the ${source.backend} backend cannot tell received/dropped counts)`;
  stderr.write(line + '\n');
  if (failure) {
    warn((failure as Error).message);
    return EXIT_READ_ERROR;
  }
  return 0;
}
