import { LogClock, partsOf, type Zone } from '../accounts/clock.js';
import { FAILURE, SUCCESS, TEMPFAIL } from '../accounts/hit.js';
import { LineParser } from '../accounts/line-parser.js';
import type { Service } from '../accounts/types.js';
import type { JournalEntry } from '../logfollow/journal-follower.js';
import type { AttemptOutcome, SensorMerge } from '../strikes/sensor-merge.js';
import { attemptsFor, DEFAULT_SERVICES, SERVICE_PORTS, serviceOf, type MailService } from './services.js';

/**
 * The log formats the sensor parses for `--services`: the SMTP servers' (Postfix, Exim); Dovecot's
 * only when imap or pop3 is listed, and then only its login processes' lines count (services.ts:
 * its auth process logs Postfix's SASL attempts too, without saying so, and would count them twice).
 */
export function logFormatsFor(services: readonly MailService[]): Service[] {
  return services.some((s) => s !== 'smtp') ? ['postfix', 'exim', 'dovecot'] : ['postfix', 'exim'];
}

/**
 * A line older than this (its own stamp against the wall clock) was written while watch was not
 * reading it (a restart catching up, a rotated file's rest): it is placed at its own time, not at
 * "now", so it is no sighting of what the wire saw just now, and its strike ages from when it
 * happened. Log stamps are whole seconds and the measured delay at most 0.2 s (sensor-merge.md), so a
 * live line is never this old.
 */
export const CATCH_UP_SECONDS = 10;

/**
 * A LogClock for a log that is being written now: the year of a `Dec  5 04:09:00` stamp is the one
 * that puts it at most two days after the current wall time (re-read per call, not once at start, so
 * a watch running over New Year's night gets January's lines right).
 */
export class LiveLogClock extends LogClock {
  constructor(
    zone: Zone,
    private readonly now: () => number,
  ) {
    super(zone, now());
  }

  /** The current year and the span of wall time it covers (re-read when now leaves it: no Date per line). */
  private nowYear = 0;
  private yearStart = Infinity;
  private yearEnd = -Infinity;

  override syslog(mo: number, d: number, h: number, mi: number, s: number): number {
    const now = this.now();
    if (now < this.yearStart || now >= this.yearEnd) {
      this.nowYear = partsOf(now, this.zone).y;
      this.yearStart = this.wall(this.nowYear, 0, 1, 0, 0, 0);
      this.yearEnd = this.wall(this.nowYear + 1, 0, 1, 0, 0, 0);
    }
    const y = this.nowYear;
    let t = this.wall(y, mo, d, h, mi, s);
    if (t > now + 2 * 86400) t = this.wall(y - 1, mo, d, h, mi, s);
    return t;
  }
}

/** One parsed outcome of a log line (watch logs it at debug level: `log_attempt`). */
export interface LogAttemptNote {
  source: string;
  client: string;
  outcome: AttemptOutcome;
  user: string | null;
  /** Outcomes the line stands for (Postfix's auth=N/M). */
  count: number;
  /** Strikes it made (0 when the wire had counted it, or a success). */
  struck: number;
  /** Read late: placed at its own stamp. */
  caught_up: boolean;
}

export interface LogSensorCounts {
  lines: number;
  failures: number;
  successes: number;
  tempfails: number;
  /** Outcomes placed at their own stamp (read late: catch-up after a restart). */
  caught_up: number;
  struck: number;
}

/**
 * Mail log lines → attempts in the sensor merge. One accounts LineParser per source (a followed file,
 * or "journal"): the Postfix parser keeps per-session state (which smtpd session already had its login
 * reported), which must not mix lines of two files.
 */
export class LogSensor {
  private readonly parsers = new Map<string, LineParser>();
  readonly counts: LogSensorCounts = { lines: 0, failures: 0, successes: 0, tempfails: 0, caught_up: 0, struck: 0 };
  /**
   * Per source, how late its latest outcome line was read: read time − the line's own stamp (the
   * journal's µs stamp; a file line's whole-second stamp). Watch's metrics (log lag) read it.
   */
  readonly lagSeconds = new Map<string, number>();
  private readonly clock: LiveLogClock;

  private readonly formats: Service[];

  constructor(
    private readonly merge: SensorMerge,
    private readonly now: () => number = () => Date.now() / 1000,
    readonly services: readonly MailService[] = DEFAULT_SERVICES,
    zone: Zone = 'local',
    private readonly onAttempt?: (n: LogAttemptNote) => void,
  ) {
    this.clock = new LiveLogClock(zone, now);
    this.formats = logFormatsFor(services);
  }

  private parser(source: string): LineParser {
    let p = this.parsers.get(source);
    if (!p) {
      // NaN for lines without a stamp of their own: they are placed at "now".
      p = new LineParser(this.formats, this.clock, Number.NaN);
      this.parsers.set(source, p);
    }
    return p;
  }

  /**
   * Lines of one source. `stamps`, for the journal: each line's own time (journald's µs stamp), used
   * instead of the line's text stamp (journal messages carry none).
   */
  lines(source: string, lines: readonly string[], stamps?: readonly number[]): void {
    const p = this.parser(source);
    const hit = p.hit;
    for (let i = 0; i < lines.length; i++) {
      this.counts.lines++;
      const line = lines[i]!;
      const v = p.parse(line);
      let outcome: AttemptOutcome;
      if (v === FAILURE) outcome = 'failure';
      else if (v === SUCCESS) outcome = 'success';
      else if (v === TEMPFAIL) outcome = 'tempfail';
      else continue;
      const facts = { service: p.service, proto: hit.proto, count: hit.count };
      const n = attemptsFor(this.services, facts);
      if (n === 0) continue; // a service not asked for, or Dovecot's auth process (see services.ts)
      // IMAP/POP3 attempts have no wire sighting (capture is on --ports): their port keeps the
      // merge from pairing them with an SMTP attempt of the same client.
      const svc = serviceOf(facts);
      const serverPort = svc === 'imap' || svc === 'pop3' ? SERVICE_PORTS[svc][0]! : null;
      const own = stamps?.[i] ?? (Number.isNaN(hit.ts) ? null : hit.ts);
      const now = this.now();
      // Read now: placed at now (the wire's clock). Read late: at its own time.
      let arrival = now;
      if (own !== null) this.lagSeconds.set(source, Math.max(0, now - own));
      const late = own !== null && own < now - CATCH_UP_SECONDS;
      if (late) {
        arrival = own!;
        this.counts.caught_up += n;
      }
      let struck = 0;
      for (let k = 0; k < n; k++) {
        if (outcome === 'failure') this.counts.failures++;
        else if (outcome === 'success') this.counts.successes++;
        else this.counts.tempfails++;
        const r = this.merge.log({ source: 'log', ts: own ?? now, client: hit.ip, outcome, user: hit.user, serverPort }, arrival);
        if (r === 'struck') struck++;
      }
      this.counts.struck += struck;
      this.onAttempt?.({ source, client: hit.ip, outcome, user: hit.user, count: n, struck, caught_up: late });
    }
  }
}

/**
 * A journal entry as a syslog line for the parsers: journald keeps the program name and pid apart
 * from MESSAGE, so `postfix/submission/smtpd[123]: warning: …` is rebuilt (the parsers pick the
 * service by the program name and key Postfix sessions by the pid, as in a file). No identifier: the
 * message alone (then no parser claims it).
 */
export function journalLine(e: JournalEntry): string {
  return e.ident ? `${e.ident}${e.pid ? `[${e.pid}]` : ''}: ${e.message}` : e.message;
}
