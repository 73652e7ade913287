import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Zone } from './clock.js';
import { LogScanner, type RangeScan } from './parse-logs.js';
import { detectCompression, lineStartFrom } from './reader.js';
import { AccountGroups, type ReportState } from './account-groups.js';
import type { FileCounters, Mode } from './types.js';
import { Whitelist, type WhitelistConfig } from './whitelist.js';

/**
 * `accounts` on several cores: a large plain log is cut at line starts into one share per thread;
 * the main thread reads the first share, worker threads the others, each with its own parser and
 * report, and the reports are merged (AccountGroups.absorb). The result is exactly the one
 * thread's:
 *
 * - every line belongs to one share; the clock (year guess from the file's mtime) and every parser
 *   but Postfix's read one line at a time;
 * - Postfix remembers sessions across lines (a `sasl_username=` login, so that its disconnect
 *   line's `auth=1` is not counted a second time). A share other than the first parses the
 *   `warmupBytes` before its start for those sessions only; the sessions it then holds must equal
 *   the previous share's at its end (that share being exact, by induction), and no share but the
 *   first may have had to forget sessions over the cap. When either fails (a session open for more
 *   than the warm-up, a read error, a worker that died), the caller reads the file again on one
 *   thread: never a wrong count, at worst the time of a second pass.
 *
 * Compressed files and standard input are one stream: read on one thread.
 */

export interface ShareJob {
  file: string;
  mtime: number;
  warmFrom: number;
  start: number;
  end: number;
  mode: Mode;
  zone: Zone;
  year: number | undefined;
  limit: number;
  nodate: boolean;
  nouser: boolean;
  users: string[];
  userRegex: { source: string; flags: string } | null;
  whitelist: WhitelistConfig;
}

export interface ShareResult {
  counters: FileCounters;
  /** Failures weighted by their count (Dovecot's `3 attempts`), as `accounts` counts them. */
  failures: number;
  tempfails: number;
  report: ReportState;
  sessionsAtStart: string[];
  sessionsAtEnd: string[];
}

/** A share's reader: its own parser, report and counts. */
class Share {
  readonly report: AccountGroups;
  readonly scan: RangeScan;
  failures = 0;
  tempfails = 0;

  constructor(job: ShareJob) {
    this.report = new AccountGroups(
      {
        limit: job.limit,
        nodate: job.nodate,
        nouser: job.nouser,
        zone: job.zone,
        users: job.users,
        userRegex: job.userRegex ? new RegExp(job.userRegex.source, job.userRegex.flags) : null,
      },
      new Whitelist(job.whitelist),
    );
    const scanner = new LogScanner({ mode: job.mode, tz: job.zone, year: job.year, intern: false });
    this.scan = scanner.rangeScan(job.file, job.mtime, (ev) => {
      if (ev.outcome === 'success') this.report.add(ev);
      else if (ev.outcome === 'failure') this.failures += ev.count ?? 1;
      else this.tempfails++;
    });
  }

  result(sessionsAtStart: string[]): ShareResult {
    return {
      counters: this.scan.counters,
      failures: this.failures,
      tempfails: this.tempfails,
      report: this.report.state(),
      sessionsAtStart,
      sessionsAtEnd: this.scan.sessions(),
    };
  }
}

/** Reads one share (a worker thread's): its warm-up, then its lines. */
export async function scanShare(job: ShareJob): Promise<ShareResult> {
  const share = new Share(job);
  if (job.warmFrom < job.start) await share.scan.warm(job.warmFrom, job.start);
  const atStart = share.scan.sessions();
  await share.scan.read(job.start, job.end);
  return share.result(atStart);
}

export interface SplitOptions {
  threads: number;
  /** Smallest share worth a thread (default 8 MiB: a worker's start costs ~50 ms). */
  minShareBytes?: number;
  /** Bytes before a share read for its Postfix sessions (default 8 MiB, ~60,000 lines). */
  warmupBytes?: number;
}

export type ShareSpec = Omit<ShareJob, 'file' | 'mtime' | 'warmFrom' | 'start' | 'end'>;

export interface SplitResult {
  counters: FileCounters;
  failures: number;
  tempfails: number;
  /** The shares' reports, in file order. */
  reports: ReportState[];
  threads: number;
  /** Shares whose own reading was used; fewer than `threads` when the first share's reader read on. */
  exact: number;
}

const DEFAULT_SHARE = 8 << 20;
/** The first share's extra weight (1 + this, the others 1). */
const FIRST_EXTRA = 0;

/**
 * The file read on `threads` threads, or null when it is not worth it or not possible (not a
 * plain regular file, too small) or when the shares could not be proven exact (see above): the
 * caller then reads it on one thread.
 */
export async function scanSplit(file: string, spec: ShareSpec, opts: SplitOptions): Promise<SplitResult | null> {
  const minShare = opts.minShareBytes ?? DEFAULT_SHARE;
  const warmup = opts.warmupBytes ?? DEFAULT_SHARE;
  if (file === '-' || opts.threads < 2) return null;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null; // the one-thread read reports the error
  }
  let bounds: number[];
  let mtime: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    const n = Math.min(opts.threads, Math.floor(st.size / minShare));
    if (n < 2) return null;
    const head = Buffer.alloc(6);
    readSync(fd, head, 0, 6, 0);
    if (detectCompression(head) !== 'none') return null;
    mtime = st.mtimeMs / 1000;
    // The first share (this thread) a little larger: a worker also starts, loads the parser and
    // reads its warm-up (measured: ~0.25 s of 2.2 s on the bench's 3 M-line log).
    const total = n + FIRST_EXTRA;
    bounds = [0];
    for (let i = 1; i < n; i++) bounds.push(lineStartFrom(fd, Math.floor((st.size * (i + FIRST_EXTRA)) / total), st.size));
    bounds.push(st.size);
  } finally {
    closeSync(fd);
  }
  const jobs: ShareJob[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    if (end <= start) continue;
    const warmFrom = i === 0 ? 0 : lineStartFromFile(file, Math.max(0, start - warmup), start);
    jobs.push({ ...spec, file, mtime, warmFrom, start, end });
  }
  if (jobs.length < 2) return null;
  // The first share in this thread (its reader can go on alone if a later share is not exact).
  const first = new Share(jobs[0]!);
  const [, ...rest] = await Promise.all([first.scan.read(jobs[0]!.start, jobs[0]!.end), ...jobs.slice(1).map(inWorker)]);
  const done: ShareResult[] = [first.result([])];
  let exact = first.scan.counters.error === undefined;
  for (const r of rest) {
    if (!exact) break;
    const prev = done[done.length - 1]!;
    if (!r || r.counters.error !== undefined || r.counters.sessionsDropped > 0 || !sameList(r.sessionsAtStart, prev.sessionsAtEnd)) exact = false;
    else done.push(r);
  }
  if (!exact) {
    // Not provably exact: the first share's reader reads on through the rest of the file (the
    // other shares' work is dropped): the one-thread result, at most one more pass of time.
    if (first.scan.counters.error !== undefined) return null;
    await first.scan.read(jobs[1]!.start, bounds[bounds.length - 1]!);
    if (first.scan.counters.error !== undefined) return null;
    done.length = 0;
    done.push(first.result([]));
  }
  const counters = { ...done[0]!.counters, file };
  for (const r of done.slice(1)) {
    counters.lines += r.counters.lines;
    counters.successes += r.counters.successes;
    counters.failures += r.counters.failures;
    counters.tempfails += r.counters.tempfails;
    counters.ignored += r.counters.ignored;
    counters.unparseable += r.counters.unparseable;
  }
  return {
    counters,
    failures: done.reduce((a, r) => a + r.failures, 0),
    tempfails: done.reduce((a, r) => a + r.tempfails, 0),
    reports: done.map((r) => r.report),
    threads: jobs.length,
    exact: done.length,
  };
}

function lineStartFromFile(file: string, offset: number, limit: number): number {
  const fd = openSync(file, 'r');
  try {
    return Math.min(lineStartFrom(fd, offset, limit), limit);
  } finally {
    closeSync(fd);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A share read by a worker thread; null when the worker failed (the caller falls back). */
function inWorker(job: ShareJob): Promise<ShareResult | null> {
  return new Promise((resolve) => {
    const w = new Worker(new URL('./scan-worker.js', import.meta.url), { workerData: job });
    let result: ShareResult | null = null;
    w.once('message', (m: ShareResult) => {
      result = m;
    });
    w.once('error', () => resolve(null));
    w.once('exit', () => resolve(result));
  });
}
