import { LogClock, parseZone, type Zone } from './clock.js';
import { FAILURE, LineParser, SUCCESS, TEMPFAIL, UNPARSEABLE, type Verdict } from './line-parser.js';
import { intern, internFew } from './ip.js';
import { LineSplitter, openLog, openRange } from './reader.js';
import { newCounters, type AuthLogEvent, type FileCounters, type Mode, type Outcome, type Service } from './types.js';

const outcomeOf = (v: Verdict): Outcome => (v === SUCCESS ? 'success' : v === FAILURE ? 'failure' : 'tempfail');

/**
 * The reusable log-reading API (`smtpstrike accounts` now, `report` later):
 *
 *   const scan = parseLogs(['/var/log/mail.log', '/var/log/auth.log.2.gz'], { mode: 'all' });
 *   for await (const ev of scan) ...          // AuthLogEvent, file by file, line order
 *   scan.counters                             // FileCounters per file (filled as files finish)
 *
 * A file that cannot be opened or read to its end gets `error` in its counters; what was read
 * before still counts, and the next file is read. Unparseable lines are counted, never thrown.
 */

export interface ParseLogsOptions {
  /** Which services' lines become events (default `all`: every format, Apache included). */
  mode?: Mode | readonly Service[];
  /** Year for timestamps that have none (default: guessed per file from its mtime). */
  year?: number;
  /** Zone of timestamps that have none: `local` (default: the process's TZ), `UTC`, `+01:00`. */
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- Zone names the `local` keyword
  tz?: string | Zone;
  /**
   * Give every event's strings their own memory, one object per distinct value (default true).
   * With false, `user`/`ip`/`method` are substrings of the decoded chunk: faster, but keeping an
   * event keeps its megabyte chunk alive — for callers that copy what they keep (`accounts`).
   */
  intern?: boolean;
}

export interface ParsedLogs extends AsyncIterable<AuthLogEvent> {
  /** One entry per file, in order, each complete once its file has been read. */
  readonly counters: FileCounters[];
}

export function parseLogs(files: readonly string[], opts: ParseLogsOptions = {}): ParsedLogs {
  const scanner = new LogScanner(opts);
  return {
    counters: scanner.counters,
    async *[Symbol.asyncIterator]() {
      for (const file of files) {
        for await (const batch of scanner.batches(file)) yield* batch;
      }
    },
  };
}

export class LogScanner {
  readonly counters: FileCounters[] = [];
  private readonly zone: Zone;

  constructor(private readonly opts: ParseLogsOptions = {}) {
    this.zone = typeof opts.tz === 'number' ? opts.tz : parseZone(opts.tz);
  }

  /**
   * Reads a file and calls `onEvent` for each success, failure and tempfail, in line order. Never
   * throws. With `reuse`, every call gets the same event object, refilled per line (valid only
   * during the call: for callers that copy what they keep, like `accounts`) — no object per event.
   */
  async scanFile(file: string, onEvent: (e: AuthLogEvent) => void, reuse = false): Promise<FileCounters> {
    const c = newCounters(file);
    this.counters.push(c);
    const sink = new EventSink(c, file, this.opts.intern !== false, reuse, onEvent);
    for await (const _ of this.read(file, c, sink));
    return c;
  }

  /**
   * A reader of byte ranges of one plain file (parallel-scan.ts: one thread's share), like
   * `scanFile` with `reuse`; see RangeScan.
   */
  rangeScan(file: string, mtime: number, onEvent: (e: AuthLogEvent) => void): RangeScan {
    const c = newCounters(file);
    this.counters.push(c);
    const sink = new EventSink(c, file, this.opts.intern !== false, true, onEvent);
    sink.parser = new LineParser(this.opts.mode ?? 'all', new LogClock(this.zone, mtime, this.opts.year), Math.floor(mtime));
    return new RangeScan(file, c, sink, sink.parser);
  }

  /** The events of one file, a decompressed chunk's worth at a time. */
  async *batches(file: string, onCounters?: (c: FileCounters) => void): AsyncGenerator<AuthLogEvent[]> {
    const c = newCounters(file);
    this.counters.push(c);
    onCounters?.(c);
    const sink = new EventSink(c, file, this.opts.intern !== false, false, null);
    for await (const _ of this.read(file, c, sink)) if (sink.batch.length > 0) yield sink.take();
    if (sink.batch.length > 0) yield sink.take();
  }

  /**
   * Opens `file` and feeds its lines through `sink`, one decompressed chunk at a time (a yield after
   * each). Never throws: an error is kept in `c` with what was read before it.
   */
  private async *read(file: string, c: FileCounters, sink: EventSink): AsyncGenerator<void> {
    const splitter = new LineSplitter();
    try {
      const log = await openLog(file);
      c.compression = log.compression;
      sink.parser = new LineParser(this.opts.mode ?? 'all', new LogClock(this.zone, log.mtime, this.opts.year), Math.floor(log.mtime));
      for await (const chunk of log.chunks) {
        splitter.push(chunk, sink.onLine);
        c.lines = splitter.lineNo;
        yield;
      }
      splitter.end(sink.onLine);
    } catch (e) {
      c.error = errorText(file, e);
    }
    c.lines = splitter.lineNo;
    if (sink.parser) c.sessionsDropped = sink.parser.postfix.sessionsDropped;
  }
}

/**
 * Byte ranges of a plain file read through one parser, each range starting at a line start.
 * `read` counts and reports the lines of a range (a second call continues where the first ended);
 * `warm` parses a range for its Postfix sessions only (no event, no count), so that a login whose
 * `sasl_username=` line came shortly before a share's start is known at its disconnect line.
 * Neither throws: an error is kept in `counters.error`.
 */
export class RangeScan {
  private readonly splitter = new LineSplitter();

  constructor(
    private readonly file: string,
    readonly counters: FileCounters,
    private readonly sink: EventSink,
    readonly parser: LineParser,
  ) {}

  async warm(from: number, to: number): Promise<void> {
    const warm = new LineSplitter();
    const parser = this.parser;
    const onLine = (line: string): void => {
      parser.parse(line);
    };
    try {
      for await (const chunk of openRange(this.file, from, to)) warm.push(chunk, onLine);
      warm.end(onLine);
    } catch (e) {
      this.counters.error = errorText(this.file, e);
    }
  }

  async read(from: number, to: number): Promise<void> {
    const c = this.counters;
    try {
      for await (const chunk of openRange(this.file, from, to)) this.splitter.push(chunk, this.sink.onLine);
      this.splitter.end(this.sink.onLine);
    } catch (e) {
      c.error = errorText(this.file, e);
    }
    c.lines = this.splitter.lineNo;
    c.sessionsDropped = this.parser.postfix.sessionsDropped;
  }

  /** The Postfix sessions remembered now (sorted `address pid` texts). */
  sessions(): string[] {
    return this.parser.postfix.sessions();
  }
}

function errorText(file: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'ENOENT' ? `${file}: no such file` : err.code === 'EACCES' ? `${file}: permission denied` : `${file}: ${err.message}`;
}

/**
 * Line → verdict → counters and event. `onLine` is one bound function per file (not a closure
 * per chunk); events go to `onEvent` (the reused object when `reuse`) or into `batch`.
 */
class EventSink {
  parser: LineParser | null = null;
  batch: AuthLogEvent[] = [];
  private readonly ev: AuthLogEvent;
  readonly onLine: (line: string, no: number) => void;

  constructor(
    private readonly c: FileCounters,
    private readonly file: string,
    private readonly doIntern: boolean,
    private readonly reuse: boolean,
    private readonly onEvent: ((e: AuthLogEvent) => void) | null,
  ) {
    this.ev = {
      ts: 0,
      tsGuessed: false,
      service: 'ssh',
      outcome: 'success',
      user: null,
      ip: '',
      method: undefined,
      reason: undefined,
      line: 0,
      file,
      proto: undefined,
      count: undefined,
    };
    this.onLine = (line, no) => this.line(line, no);
  }

  take(): AuthLogEvent[] {
    const b = this.batch;
    this.batch = [];
    return b;
  }

  private line(line: string, no: number): void {
    const parser = this.parser!;
    const v = parser.parse(line);
    const c = this.c;
    if (v === SUCCESS) c.successes++;
    else if (v === FAILURE) c.failures++;
    else if (v === TEMPFAIL) c.tempfails++;
    else {
      if (v === UNPARSEABLE) c.unparseable++;
      else c.ignored++;
      return;
    }
    const h = parser.hit;
    const outcome = outcomeOf(v);
    if (this.reuse) {
      const ev = this.ev;
      ev.ts = h.ts;
      ev.tsGuessed = h.tsGuessed;
      ev.service = parser.service;
      ev.outcome = outcome;
      ev.user = this.doIntern && h.user !== null ? intern(h.user) : h.user;
      ev.ip = this.doIntern ? intern(h.ip) : h.ip;
      ev.method = this.doIntern && h.method !== undefined ? internFew(h.method) : h.method;
      ev.reason = h.reason;
      ev.line = no;
      ev.proto = h.proto;
      ev.count = h.count !== 1 ? h.count : undefined;
      this.onEvent!(ev);
      return;
    }
    // Same shape for every event; strings interned (see ip.ts).
    const ev: AuthLogEvent = this.doIntern
      ? {
          ts: h.ts,
          tsGuessed: h.tsGuessed,
          service: parser.service,
          outcome,
          user: h.user === null ? null : intern(h.user),
          ip: intern(h.ip),
          method: h.method === undefined ? undefined : internFew(h.method),
          reason: h.reason,
          line: no,
          file: this.file,
        }
      : {
          ts: h.ts,
          tsGuessed: h.tsGuessed,
          service: parser.service,
          outcome,
          user: h.user,
          ip: h.ip,
          method: h.method,
          reason: h.reason,
          line: no,
          file: this.file,
        };
    if (h.proto !== undefined) ev.proto = h.proto;
    if (h.count !== 1) ev.count = h.count;
    if (this.onEvent) this.onEvent(ev);
    else this.batch.push(ev);
  }
}

export type LineVerdict = Outcome | 'ignored' | 'unparseable';

export interface ParseLineOptions extends ParseLogsOptions {
  /** The "file modification time" for year guessing and timestamp-less lines (default: now). */
  refTs?: number;
}

/**
 * One line on its own (tests, tools): the verdict and, for successes, failures and tempfails, the
 * event (`file` is `<line>`, `line` 1). Builds a parser per call (so no Postfix session state
 * carries from one call to the next): use `LogScanner` for files.
 */
export function parseLine(line: string, opts: ParseLineOptions = {}): { verdict: LineVerdict; event: AuthLogEvent | null } {
  const zone = typeof opts.tz === 'number' ? opts.tz : parseZone(opts.tz);
  const ref = opts.refTs ?? Date.now() / 1000;
  const p = new LineParser(opts.mode ?? 'all', new LogClock(zone, ref, opts.year), Math.floor(ref));
  const v = p.parse(line);
  if (v !== SUCCESS && v !== FAILURE && v !== TEMPFAIL) return { verdict: v === UNPARSEABLE ? 'unparseable' : 'ignored', event: null };
  const h = p.hit;
  const event: AuthLogEvent = {
    ts: h.ts,
    tsGuessed: h.tsGuessed,
    service: p.service,
    outcome: outcomeOf(v),
    user: h.user,
    ip: h.ip,
    line: 1,
    file: '<line>',
  };
  if (h.method !== undefined) event.method = h.method;
  if (h.reason !== undefined) event.reason = h.reason;
  if (h.count !== 1) event.count = h.count;
  if (h.proto !== undefined) event.proto = h.proto;
  return { verdict: event.outcome, event };
}
