import { LogClock } from '../accounts/clock.js';
import { intern, internFew } from '../accounts/ip.js';
import { FAILURE, LineParser, SUCCESS, TEMPFAIL, UNPARSEABLE } from '../accounts/line-parser.js';
import { LineSplitter, openLog } from '../accounts/reader.js';
import { classicStamp, ctimeStamp, isoStamp, newStamp, stampTime, tai64nStamp, type Stamp } from '../accounts/timestamps.js';
import { newCounters, type FileCounters, type Mode, type Service } from '../accounts/types.js';
import { CoverageBuilder } from './intervals.js';
import { isCaptureMagic } from './sniff.js';
import type { LogStore } from './log-store.js';
import type { TarpitAggregator } from './tarpit.js';
import type { Intervals, LogAuth } from './types.js';

/**
 * Reads logs for the report with the accounts parsers (src/accounts/line-parser.ts: every format
 * `smtpstrike accounts` reads), on a clock that reads every timestamp as if it were UTC: the zone
 * of timestamps that carry none is decided afterwards (`--log-tz`, or estimated against the wire),
 * see align.ts. Also records when each file was written to (its coverage), from the timestamps of a
 * sample of its lines (every 64th, the first and the last), split at silences longer than `gap`.
 */

/**
 * Year of year-less (classic syslog) timestamps: the one that puts the line nearest to `center`
 * (the middle of what the wire saw) — a December log read with a January capture lands in December.
 */
export class NearestYearClock extends LogClock {
  private readonly centerYear: number;
  private memoKey = -1;
  private memoBase = 0;

  constructor(private readonly center: number) {
    super(0, center);
    this.centerYear = new Date(center * 1000).getUTCFullYear();
  }

  override syslog(mo: number, d: number, h: number, mi: number, s: number): number {
    const key = (mo * 32 + d) * 24 + h;
    if (key !== this.memoKey) {
      let best = 0;
      let bestDist = Infinity;
      for (const y of [this.centerYear - 1, this.centerYear, this.centerYear + 1]) {
        const t = Date.UTC(y, mo, d, h) / 1000;
        const dist = Math.abs(t - this.center);
        if (dist < bestDist) {
          bestDist = dist;
          best = t;
        }
      }
      this.memoKey = key;
      this.memoBase = best;
    }
    return this.memoBase + mi * 60 + s;
  }
}

export interface LogScanOptions {
  mode: Mode;
  /** Fixed year for year-less timestamps (`--log-year`). */
  year?: number;
  /** Place year-less timestamps nearest this time (the wire's middle) when no year is given. */
  center?: number;
  gap: number;
  /** Takes the pino lines of watch's log met in a log (its tarpit events); they count as ignored. */
  tarpit?: TarpitAggregator;
  /** Keep the outcomes here, in columns, rather than as `events` (the report's bounded-memory path). */
  store?: LogStore;
}

export interface LogFileScan {
  counters: FileCounters;
  /** Coverage in wall time read as UTC; `guessed`: its timestamps carry no zone. */
  wallCoverage: Intervals;
  coverageGuessed: boolean;
  /** Lines whose timestamp has no year (classic syslog). */
  yearless: number;
  /** Lines whose timestamp has no zone (classic syslog, Exim/Dovecot own format, ...). */
  zoneless: number;
}

export interface LogScan {
  events: LogAuth[];
  files: LogFileScan[];
}

const SAMPLE_EVERY = 64;

/** Time of a line's leading timestamp (read as UTC when it has no zone), or null. */
function lineTime(line: string, st: Stamp, clock: LogClock): [number, boolean] | null {
  st.kind = 0;
  const c0 = line.charCodeAt(0);
  let p = -1;
  if (c0 >= 65 && c0 <= 90) {
    p = classicStamp(line, 0, st);
    if (p < 0) p = ctimeStamp(line, 0, st);
  } else if (c0 >= 48 && c0 <= 57) p = isoStamp(line, 0, st);
  else if (c0 === 64) p = tai64nStamp(line, 0, st);
  else if (c0 === 60) {
    const gt = line.indexOf('>');
    if (gt > 0 && gt <= 4 && line.startsWith('1 ', gt + 1)) p = isoStamp(line, gt + 3, st);
  }
  if (p < 0 || st.kind === 0) return null;
  return stampTime(st, clock, 0);
}

export async function scanLogs(files: readonly string[], opts: LogScanOptions): Promise<LogScan> {
  const events: LogAuth[] = [];
  const out: LogFileScan[] = [];
  for (const file of files) {
    const c = newCounters(file);
    const cov = new CoverageBuilder(opts.gap);
    const st = newStamp();
    let guessedCov = false;
    let yearless = 0;
    let zoneless = 0;
    let lastLine = '';
    const splitter = new LineSplitter();
    let parser: LineParser | null = null;
    let clock: LogClock | null = null;
    const sample = (line: string): void => {
      const t = lineTime(line, st, clock!);
      if (!t) return;
      cov.add(t[0]);
      if (t[1]) guessedCov = true;
    };
    const onLine = (line: string, no: number): void => {
      if (line.length > 0) {
        if (no === 1 || no % SAMPLE_EVERY === 0) sample(line);
        lastLine = line;
        if (opts.tarpit?.logLine(file, line, c.compression)) {
          c.ignored++;
          return;
        }
      }
      const v = parser!.parse(line);
      if (v === SUCCESS || v === FAILURE || v === TEMPFAIL) {
        const h = parser!.hit;
        const svc: Service = parser!.service;
        // Classic syslog: no year and no zone; other guessed stamps: no zone.
        if (h.tsGuessed) {
          zoneless++;
          if (line.length > 15 && classicStamp(line, 0, st) > 0) yearless++;
        }
        const user = h.user === null || h.user === '(unavailable)' ? null : intern(h.user);
        const outcome = v === SUCCESS ? 'success' : v === FAILURE ? 'failure' : 'tempfail';
        // A line standing for several logins (Postfix's `auth=2`) is that many log attempts; the
        // line itself is counted once (`lines`).
        const store = opts.store;
        if (store) {
          const ip = intern(h.ip);
          const method = h.method === undefined ? null : internFew(h.method);
          for (let k = 0; k < h.count; k++) store.add(h.ts, h.tsGuessed, svc, outcome, user, ip, method, h.reason ?? null, k === 0 ? 1 : 0);
        } else
          for (let k = 0; k < h.count; k++) {
            events.push({
              ts: h.ts,
              wall: h.ts,
              guessed: h.tsGuessed,
              service: svc,
              outcome,
              user,
              ip: intern(h.ip),
              method: h.method === undefined ? null : internFew(h.method),
              reason: h.reason ?? null,
              file,
              line: no,
              lines: k === 0 ? 1 : 0,
              services: [svc],
            });
          }
        if (v === SUCCESS) c.successes++;
        else if (v === FAILURE) c.failures++;
        else c.tempfails++;
      } else if (v === UNPARSEABLE) c.unparseable++;
      else c.ignored++;
    };
    try {
      const log = await openLog(file);
      c.compression = log.compression;
      clock =
        opts.year !== undefined
          ? new LogClock(0, log.mtime, opts.year)
          : opts.center !== undefined
            ? new NearestYearClock(opts.center)
            : new LogClock(0, log.mtime);
      parser = new LineParser(opts.mode, clock, Math.floor(log.mtime));
      let first = true;
      for await (const chunk of log.chunks) {
        // A stream (`-`, `<(…)`) is taken for a log unseen (see looksLikeCapture): say so if it is a capture.
        if (first && isCaptureMagic(chunk)) throw new Error('is a capture, not a log (a stream cannot be looked into first: name it with --capture)');
        first = false;
        splitter.push(chunk, onLine);
      }
      splitter.end(onLine);
      if (lastLine) sample(lastLine);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      c.error = err.code === 'ENOENT' ? `${file}: no such file` : err.code === 'EACCES' ? `${file}: permission denied` : `${file}: ${err.message}`;
    }
    c.lines = splitter.lineNo;
    if (parser) c.sessionsDropped = parser.postfix.sessionsDropped;
    out.push({ counters: c, wallCoverage: cov.result(), coverageGuessed: guessedCov, yearless, zoneless });
  }
  return { events, files: out };
}
