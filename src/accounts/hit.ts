/**
 * What a format parser returns for one line: a verdict, and for successes, failures and temporary
 * failures the fields it filled in a reused `Hit` (no allocation for the many lines that carry nothing).
 */

export const IGNORED = 0;
export const SUCCESS = 1;
export const FAILURE = 2;
export const UNPARSEABLE = 3;
/**
 * A temporary failure: the server answered 454 (Postfix's `Connection lost to authentication
 * server`, Dovecot's penalty answer), not 535. Never a failure: the password may have been right.
 */
export const TEMPFAIL = 4;
export type Verdict = typeof IGNORED | typeof SUCCESS | typeof FAILURE | typeof UNPARSEABLE | typeof TEMPFAIL;

export interface Hit {
  user: string | null;
  /** Canonical client address (see ip.ts). */
  ip: string;
  method: string | undefined;
  reason: string | undefined;
  /** Set by the parsers of formats that carry their own timestamp (Apache, OpenWebMail, Exim). */
  ts: number;
  tsGuessed: boolean;
  /**
   * How many outcomes the line stands for (1 but for Postfix's disconnect line, whose `auth=N/M`
   * counter can report N > 1 logins at once, and Dovecot's login-process failure line
   * `(auth failed, N attempts ...)`: N failures). Every consumer of a verdict must honour it.
   */
  count: number;
  /**
   * The protocol of a Dovecot login process (`imap`, `pop3`, `submission`, `managesieve`, ...:
   * the `imap-login:` prefix without `-login`); undefined for every other line, Dovecot's auth
   * process included (it does not log which service asked).
   */
  proto: string | undefined;
}

export function newHit(): Hit {
  return { user: null, ip: '', method: undefined, reason: undefined, ts: 0, tsGuessed: true, count: 1, proto: undefined };
}

/** Resets the per-line fields. */
export function clearHit(h: Hit): void {
  h.user = null;
  h.ip = '';
  h.method = undefined;
  h.reason = undefined;
  h.count = 1;
  h.proto = undefined;
}

/** Empty names (`user=<>`, `Invalid user  from`) become null. */
export function userOrNull(u: string | undefined): string | null {
  return u === undefined || u === '' ? null : u;
}
