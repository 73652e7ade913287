/**
 * The account-analysis event model: one authentication outcome read from one log line.
 * `parseLogs` (parse-logs.ts) produces these; `smtpstrike accounts` and the later `report`
 * command consume them.
 */

export const SERVICES = ['exim', 'postfix', 'dovecot', 'ssh', 'apache', 'openwebmail'] as const;
export type Service = (typeof SERVICES)[number];
export type Mode = Service | 'all';
export const MODES: readonly Mode[] = [...SERVICES, 'all'];

/**
 * `tempfail`: the server answered 454 (a temporary failure: Postfix's `Connection lost to
 * authentication server`), never a failure — the password may have been right.
 */
export type Outcome = 'success' | 'failure' | 'tempfail';

export interface AuthLogEvent {
  /** Seconds since the epoch (fractions kept when the log has them). */
  ts: number;
  /** The year or the time zone was assumed (classic syslog, Exim without zone, ...), not read. */
  tsGuessed: boolean;
  service: Service;
  outcome: Outcome;
  /** The account name as logged; null when the line names none (Exim `A=name` without id). */
  user: string | null;
  /** Client address, canonical text (IPv4 dotted, IPv6 lower case; `::ffff:a.b.c.d` unmapped). */
  ip: string;
  /** Authentication method or mechanism: `password`, `publickey`, `PLAIN`, `dovecot_plain`, ... */
  method?: string;
  /**
   * For failures, what kind of line said so: `failed` (sshd `Failed ...`), `invalid-user`,
   * `not-allowed`, `root-refused`, `pam`, `auth-failed` (Dovecot login process),
   * `password-mismatch`, `unknown-user`, `sasl` (Postfix), `authenticator` (Exim), `http-401`,
   * `login-error` (OpenWebMail). One attempt can be logged by two daemons (sshd's PAM line and
   * its `Failed password` line; Dovecot's auth worker and its login process): each line is one
   * event, and `reason` tells them apart.
   */
  reason?: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
  file: string;
  /**
   * Outcomes this one line stands for, when more than one (Postfix's disconnect line
   * `auth=2/3`: two logins; Dovecot's `(auth failed, 3 attempts ...)`: three failures); absent
   * means 1. Successes read from a disconnect line have reason
   * `disconnect` and, unless a line of the same session named the account, user null.
   */
  count?: number;
  /**
   * Dovecot login-process lines only: the protocol the client spoke (`imap`, `pop3`,
   * `submission`, `managesieve`, ...; see Hit.proto). Absent on every other line.
   */
  proto?: string;
}

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export interface FileCounters {
  /** The file's path as given (`-`: standard input). */
  file: string;
  /** How it was compressed. */
  compression: Compression;
  /** Lines read (every line, blank ones too). */
  lines: number;
  /** Lines with a success (a disconnect line's `auth=2` is one line: see AuthLogEvent.count). */
  successes: number;
  /** Lines with a failure. */
  failures: number;
  /** Lines with a temporary failure (454: Postfix's `Connection lost to authentication server`). */
  tempfails: number;
  /**
   * Postfix sessions forgotten because too many were open at once (see postfix.ts): a login of
   * such a session may be counted twice (once named, once from its disconnect line).
   */
  sessionsDropped: number;
  /** Well-formed log lines that carry no authentication outcome (or belong to a mode not asked for). */
  ignored: number;
  /**
   * Lines that could not be understood: no known timestamp/header, or a line that looks like an
   * authentication outcome but lacks a usable client address (a host name instead of an IP, a
   * malformed address, ...). Counted, never fatal.
   */
  unparseable: number;
  /** Set when the file could not be opened or read to its end (what was read still counts). */
  error?: string;
}

export function newCounters(file: string): FileCounters {
  return { file, compression: 'none', lines: 0, successes: 0, failures: 0, tempfails: 0, sessionsDropped: 0, ignored: 0, unparseable: 0 };
}
