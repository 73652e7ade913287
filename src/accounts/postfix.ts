import { canonicalIp, flat } from './ip.js';
import { FAILURE, IGNORED, SUCCESS, TEMPFAIL, UNPARSEABLE, userOrNull, type Hit, type Verdict } from './hit.js';

/**
 * Postfix smtpd messages (`postfix/smtpd`, `postfix/submission/smtpd`, `postfix-foo/smtpd`, ...),
 * `p` at the text after `smtpd[pid]: `.
 *
 * Success: `QUEUEID: client=host[ip][:port], sasl_method=M, sasl_username=u` — written once per
 * accepted message of an authenticated client, so a login followed by QUIT (a credential checker)
 * never writes it. Hence also: `disconnect from host[ip][:port] ... auth=N/M ...` (`auth=N` is
 * N/N): N successful AUTH commands out of M in the session; it yields N successes (reason
 * `disconnect`, account unknown), unless a `sasl_username=` success line of the same smtpd
 * session already reported its login (then it yields nothing: a login is counted once).
 * Failure: `warning: host[ip][:port]: SASL M authentication failed: REASON[, sasl_username=u]`
 * (reason `sasl`; the mechanism upper-cased). The disconnect line's M − N is not counted again.
 * Temporary failure: the same warning with REASON `Connection lost to authentication server`
 * (Postfix's text for XSASL_AUTH_TEMP, answered `454 4.7.0 Temporary authentication failure`;
 * Dovecot's auth penalty makes it): TEMPFAIL, reason `sasl-temp`, never a failure.
 *
 * A session is one smtpd process (its pid) and one client address, from `connect from` to
 * `disconnect from`. Only sessions whose login a `sasl_username=` line reported are remembered
 * (client address → pid; forgotten at their disconnect or at a new `connect from` of the same
 * process and client); at most `maxSessions` are kept, the oldest clients' dropped first, a
 * sixteenth of the cap at a time (`sessionsDropped` counts them: such a session's `auth=` login
 * may then be counted a second time, under no account).
 */

const SUCCESS_RE = /[0-9A-Za-z]+: client=[^\s[]*\[([^\]]*)\](?::\d+)?, sasl_method=([^,]*), sasl_username=(.*?)(?:, sasl_sender=.*)?\s*$/y;
const FAILURE_RE = /warning: [^\s[]*\[([^\]]*)\](?::\d+)?: SASL (\S+) authentication failed(?::\s*(.*?))?(?:, sasl_username=(.*?))?\s*$/y;
const TEMP_REASON = 'Connection lost to authentication server';

export const DEFAULT_MAX_SESSIONS = 10_000;

export class PostfixParser {
  /**
   * Open sessions whose login a `sasl_username=` line reported: client address as logged → the
   * smtpd pid (or pids, when one client has several such sessions open at once).
   */
  private readonly named = new Map<string, number | number[]>();
  private open = 0;
  /** Open sessions forgotten because `maxSessions` were open. */
  sessionsDropped = 0;

  constructor(private readonly maxSessions = DEFAULT_MAX_SESSIONS) {}

  /**
   * The sessions remembered now, as sorted `address pid` texts: what a thread that starts in the
   * middle of a log compares with the thread before it (see parallel-scan.ts).
   */
  sessions(): string[] {
    const out: string[] = [];
    for (const [raw, v] of this.named) {
      if (typeof v === 'number') out.push(`${raw} ${v}`);
      else for (const pid of v) out.push(`${raw} ${pid}`);
    }
    return out.sort();
  }

  /** Sessions remembered now. */
  get openSessions(): number {
    return this.open;
  }

  /**
   * @param line the whole line
   * @param p start of the message (after `smtpd[pid]: `)
   * @param ks, ke the span of line naming the process (`postfix/smtpd[123]`, or RFC 5424's `APP PROCID`)
   */
  parse(line: string, p: number, hit: Hit, ks: number, ke: number): Verdict {
    const c = line.charCodeAt(p);
    if (c === 119 /* w */) {
      if (line.indexOf(' authentication failed', p) < 0) return IGNORED;
      FAILURE_RE.lastIndex = p;
      const m = FAILURE_RE.exec(line);
      if (!m) return line.indexOf(': SASL ', p) >= 0 ? UNPARSEABLE : IGNORED;
      const ip = canonicalIp(m[1]!);
      if (ip === null) return UNPARSEABLE;
      hit.ip = ip;
      hit.method = m[2]!.toUpperCase();
      hit.user = userOrNull(m[4]);
      if (m[3] !== undefined && m[3].startsWith(TEMP_REASON)) {
        hit.reason = 'sasl-temp';
        return TEMPFAIL;
      }
      hit.reason = 'sasl';
      return FAILURE;
    }
    if (c === 100 /* d */ && line.startsWith('disconnect from ', p)) return this.disconnect(line, p + 16, hit, ks, ke);
    if (c === 99 /* c */ && this.open > 0 && line.startsWith('connect from ', p)) {
      // A new session of the same process and client: whatever was remembered is stale.
      const ip = bracketed(line, p + 13);
      if (ip !== null) this.forget(ip, pidOf(line, ks, ke));
      return IGNORED;
    }
    if (line.indexOf('sasl_username=', p) < 0) return IGNORED;
    SUCCESS_RE.lastIndex = p;
    const m = SUCCESS_RE.exec(line);
    if (!m) return line.indexOf(' client=', p) >= 0 ? UNPARSEABLE : IGNORED;
    const ip = canonicalIp(m[1]!);
    if (ip === null) return UNPARSEABLE;
    hit.ip = ip;
    hit.method = m[2]!;
    hit.user = userOrNull(m[3]);
    this.remember(m[1]!, pidOf(line, ks, ke));
    return SUCCESS;
  }

  private remember(raw: string, pid: number): void {
    const m = this.named;
    const v = m.get(raw);
    if (v === pid || (typeof v === 'object' && v.includes(pid))) return;
    if (this.open >= this.maxSessions) this.evict();
    if (v === undefined)
      m.set(flat(raw), pid); // its own copy: a slice would keep the line's chunk alive
    else if (typeof v === 'number') m.set(raw, [v, pid]);
    else v.push(pid);
    this.open++;
  }

  /** Whether the session was remembered; forgets it. */
  private forget(raw: string, pid: number): boolean {
    const m = this.named;
    const v = m.get(raw);
    if (v === undefined) return false;
    if (v === pid) m.delete(raw);
    else if (typeof v === 'number') return false;
    else {
      const i = v.indexOf(pid);
      if (i < 0) return false;
      v.splice(i, 1);
      if (v.length === 0) m.delete(raw);
    }
    this.open--;
    return true;
  }

  /** Drops the oldest clients' sessions, a sixteenth of the cap at a time (one pass, amortised). */
  private evict(): void {
    const want = Math.max(1, this.maxSessions >> 4);
    let dropped = 0;
    for (const [k, v] of this.named) {
      this.named.delete(k);
      dropped += typeof v === 'number' ? 1 : v.length;
      if (dropped >= want) break;
    }
    this.open -= dropped;
    this.sessionsDropped += dropped;
  }

  /** `disconnect from host[ip][:port] ehlo=1 auth=N/M ... commands=X/Y`, q after `from `. */
  private disconnect(line: string, q: number, hit: Hit, ks: number, ke: number): Verdict {
    const a = line.indexOf(' auth=', q);
    if (a < 0 && this.open === 0) return IGNORED;
    const raw = bracketed(line, q);
    if (raw === null) return a < 0 ? IGNORED : UNPARSEABLE;
    const wasNamed = this.open > 0 && this.forget(raw, pidOf(line, ks, ke));
    if (a < 0) return IGNORED;
    // N: digits after "auth=", then "/M", or a space / end ("auth=N" is N/N).
    let i = a + 6;
    let n = 0;
    const start = i;
    for (let ch = line.charCodeAt(i); ch >= 48 && ch <= 57 && i - start < 6; ch = line.charCodeAt(++i)) n = n * 10 + (ch - 48);
    const after = line.charCodeAt(i);
    if (i === start || !(after === 47 /* / */ || after === 32 || Number.isNaN(after))) return UNPARSEABLE;
    if (n === 0 || wasNamed) return IGNORED;
    const ip = canonicalIp(raw);
    if (ip === null) return UNPARSEABLE;
    hit.ip = ip;
    hit.user = null;
    hit.reason = 'disconnect';
    hit.count = n;
    return SUCCESS;
  }
}

/**
 * The smtpd process of line[ks, ke): the digits at its end (`postfix/smtpd[123]`, RFC 5424's
 * `postfix/smtpd 123`), or -1. A pid names one process of one host at a time, which is all the
 * session key needs (the program name adds nothing).
 */
function pidOf(line: string, ks: number, ke: number): number {
  let e = ke;
  if (line.charCodeAt(e - 1) === 93 /* ] */) e--;
  let pid = 0;
  let mul = 1;
  let i = e - 1;
  for (; i >= ks && e - i <= 9; i--) {
    const ch = line.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    pid += (ch - 48) * mul;
    mul *= 10;
  }
  return i === e - 1 ? -1 : pid;
}

/** The text inside `host[...]` starting at q (the host name has no `[`), or null. */
function bracketed(line: string, q: number): string | null {
  const b = line.indexOf('[', q);
  if (b < 0) return null;
  const sp = line.indexOf(' ', q);
  if (sp >= 0 && sp < b) return null;
  const e = line.indexOf(']', b + 1);
  return e < 0 ? null : line.slice(b + 1, e);
}
