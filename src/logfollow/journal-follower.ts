/**
 * journald through `journalctl -f -o json`: one JSON object a line, each with its cursor, so a
 * restart goes on with `--after-cursor` (nothing missed, nothing twice); a first start takes only
 * new entries (`--lines=0`). The mail units by default: postfix (and its instances), dovecot, exim4.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface JournalEntry {
  /** Seconds since the epoch (from __REALTIME_TIMESTAMP, microseconds). */
  ts: number;
  /** _SYSTEMD_UNIT, else SYSLOG_IDENTIFIER, else "". */
  unit: string;
  message: string;
  cursor: string;
  /** SYSLOG_IDENTIFIER (e.g. `postfix/smtpd`), absent when the entry has none: with `pid`, the syslog `prog[pid]:` the log parsers key on. */
  ident?: string;
  /** _PID (else SYSLOG_PID), absent when the entry has none. */
  pid?: string;
}

export const DEFAULT_JOURNAL_UNITS: readonly string[] = ['postfix*', 'dovecot*', 'exim4*'];

export interface JournalFollowerOptions {
  onEntries: (entries: JournalEntry[]) => void | Promise<void>;
  /** Called once when journalctl exits or cannot be started while we did not stop it. */
  onError?: (err: Error) => void;
  /** Resume after this entry; without it only entries from now on. */
  cursor?: string | null;
  units?: readonly string[];
  /** The program (tests put a fake one here or on PATH). */
  journalctl?: string;
  /** Extra arguments before ours (tests: `--file X` or `-D DIR`). */
  extraArgs?: readonly string[];
  /** Skip the "is journald running" check (a --file / -D journal needs no daemon). */
  noDaemonCheck?: boolean;
  /** journalctl that ends while we follow is started again after this long, after the last cursor (0: never). Default 5000. */
  restartMs?: number;
}

/** One line of `journalctl -o json` as an entry, or null when it is not one. MESSAGE may be a byte array. */
export function parseJournalLine(line: string): JournalEntry | null {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  const cursor = r.__CURSOR;
  const rt = r.__REALTIME_TIMESTAMP;
  if (typeof cursor !== 'string' || (typeof rt !== 'string' && typeof rt !== 'number')) return null;
  const us = Number(rt);
  if (!Number.isFinite(us)) return null;
  let message = '';
  const m = r.MESSAGE;
  if (typeof m === 'string') message = m;
  else if (Array.isArray(m) && m.every((b) => typeof b === 'number')) message = Buffer.from(m).toString('utf8');
  const unit = typeof r._SYSTEMD_UNIT === 'string' ? r._SYSTEMD_UNIT : typeof r.SYSLOG_IDENTIFIER === 'string' ? r.SYSLOG_IDENTIFIER : '';
  const ident = typeof r.SYSLOG_IDENTIFIER === 'string' ? r.SYSLOG_IDENTIFIER : '';
  const pid = typeof r._PID === 'string' ? r._PID : typeof r.SYSLOG_PID === 'string' ? r.SYSLOG_PID : '';
  return { ts: us / 1e6, unit, message, cursor, ...(ident ? { ident } : {}), ...(pid ? { pid } : {}) };
}

/**
 * Why the system journal cannot be followed here, or null. journald running is its socket;
 * /var/log/journal alone proves nothing (the systemd package makes it, and `journalctl -f` on a host
 * without journald waits forever, silently).
 */
export function journalProblem(runDir = '/run/systemd/journal'): string | null {
  if (!existsSync(`${runDir}/socket`) && !existsSync(`${runDir}/stdout`)) {
    return `journald is not running on this host (no ${runDir}/socket): --journal cannot read anything; follow the mail log with --log FILE instead`;
  }
  return null;
}

export class JournalFollower {
  private child: ChildProcess | null = null;
  private lastCursor: string | null;
  private stopping = false;
  private buf = '';
  private chain: Promise<void> = Promise.resolve();
  private stderr = '';
  /** Entries handed out, lines that were not entries. */
  readonly stats = { entries: 0, badLines: 0 };

  constructor(private readonly o: JournalFollowerOptions) {
    this.lastCursor = o.cursor ?? null;
  }

  /** The cursor of the last entry handed out (kept in the state file). */
  cursor(): string | null {
    return this.lastCursor;
  }

  args(): string[] {
    const a = [...(this.o.extraArgs ?? []), '--follow', '--output=json', '--no-pager'];
    for (const u of this.o.units ?? DEFAULT_JOURNAL_UNITS) a.push(`--unit=${u}`);
    a.push(...(this.lastCursor ? [`--after-cursor=${this.lastCursor}`] : ['--lines=0']));
    return a;
  }

  /** journalctl (re)starts, after the first. */
  restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;

  /** Starts journalctl; rejects with a clear reason when it is missing or journald is not there. */
  async start(): Promise<void> {
    if (!this.o.noDaemonCheck) {
      const why = journalProblem();
      if (why) throw new Error(why);
    }
    await this.spawnJournalctl();
  }

  private async spawnJournalctl(): Promise<void> {
    const prog = this.o.journalctl ?? 'journalctl';
    this.buf = '';
    this.stderr = '';
    const child = spawn(prog, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e: NodeJS.ErrnoException) => {
        this.child = null;
        reject(new Error(e.code === 'ENOENT' ? `${prog} not found: --journal needs journalctl (Debian: the systemd package)` : `${prog}: ${e.message}`));
      });
    });
    if (this.stopping) {
      child.kill('SIGTERM'); // stop() came while it was starting
      return;
    }
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-4096);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => this.data(s));
    child.once('close', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      const why = this.stderr.trim().split('\n').slice(-3).join('; ');
      const again = this.o.restartMs ?? 5000;
      this.o.onError?.(
        new Error(
          `journalctl ended (${signal ?? `exit ${code}`})${why ? `: ${why}` : ''}${again > 0 ? `; started again in ${again} ms after the last cursor` : ''}`,
        ),
      );
      if (again > 0) this.scheduleRestart(again);
    });
  }

  private scheduleRestart(ms: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.restarts++;
      // After the batches in hand: the cursor must be the last one handed out.
      void this.chain
        .then(() => (this.stopping ? undefined : this.spawnJournalctl()))
        .catch((e: Error) => {
          this.o.onError?.(e);
          if (!this.stopping) this.scheduleRestart(ms);
        });
    }, ms);
  }

  private data(s: string): void {
    this.buf += s;
    const nl = this.buf.lastIndexOf('\n');
    if (nl < 0) {
      if (this.buf.length > 1024 * 1024) this.buf = ''; // a runaway line: dropped
      return;
    }
    const lines = this.buf.slice(0, nl).split('\n');
    this.buf = this.buf.slice(nl + 1);
    const entries: JournalEntry[] = [];
    for (const l of lines) {
      if (l.trim() === '') continue;
      const e = parseJournalLine(l);
      if (e) entries.push(e);
      else this.stats.badLines++;
    }
    if (entries.length === 0) return;
    // Backpressure: journalctl's pipe waits while a batch is being handled.
    this.child?.stdout?.pause();
    this.chain = this.chain
      .then(async () => {
        await this.o.onEntries(entries);
        this.stats.entries += entries.length;
        this.lastCursor = entries[entries.length - 1]!.cursor;
      })
      .catch((e: Error) => this.o.onError?.(e))
      .finally(() => this.child?.stdout?.resume());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      c.kill('SIGTERM');
      await closed;
    }
    await this.chain.catch(() => undefined);
  }
}
