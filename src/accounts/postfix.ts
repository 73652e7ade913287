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
 * A session is one smtpd process (program name with its `[pid]`) and one client address, from
 * `connect from` to `disconnect from`. Only sessions whose login a `sasl_username=` line reported
 * are remembered (a set of keys, dropped at their disconnect or at a new `connect from` of the
 * same key); at most `maxSessions` are kept, the oldest dropped first (`sessionsDropped` counts
 * them: such a session's `auth=` login may then be counted a second time, under no account).
 */

const SUCCESS_RE = /[0-9A-Za-z]+: client=[^\s[]*\[([^\]]*)\](?::\d+)?, sasl_method=([^,]*), sasl_username=(.*?)(?:, sasl_sender=.*)?\s*$/y;
const FAILURE_RE = /warning: [^\s[]*\[([^\]]*)\](?::\d+)?: SASL (\S+) authentication failed(?::\s*(.*?))?(?:, sasl_username=(.*?))?\s*$/y;
const TEMP_REASON = 'Connection lost to authentication server';

export const DEFAULT_MAX_SESSIONS = 10_000;

export class PostfixParser {
  /** Keys (`prog[pid]` + NUL + client address as logged) of open sessions whose login was reported. */
  private readonly named = new Set<string>();
  /** Open sessions forgotten because `maxSessions` were open. */
  sessionsDropped = 0;

  constructor(private readonly maxSessions = DEFAULT_MAX_SESSIONS) {}

  /** Sessions remembered now. */
  get openSessions(): number {
    return this.named.size;
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
    if (c === 99 /* c */ && this.named.size > 0 && line.startsWith('connect from ', p)) {
      // A new session of the same process and client: whatever was remembered is stale.
      const ip = bracketed(line, p + 13);
      if (ip !== null) this.named.delete(key(line, ks, ke, ip));
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
    this.remember(key(line, ks, ke, m[1]!));
    return SUCCESS;
  }

  private remember(k: string): void {
    const s = this.named;
    if (s.has(k)) return;
    if (s.size >= this.maxSessions) {
      const oldest = s.values().next();
      if (!oldest.done) {
        s.delete(oldest.value);
        this.sessionsDropped++;
      }
    }
    // Its own copy: the key's parts are slices of the line, which would keep the whole chunk alive.
    s.add(flat(k));
  }

  /** `disconnect from host[ip][:port] ehlo=1 auth=N/M ... commands=X/Y`, q after `from `. */
  private disconnect(line: string, q: number, hit: Hit, ks: number, ke: number): Verdict {
    const a = line.indexOf(' auth=', q);
    if (a < 0 && this.named.size === 0) return IGNORED;
    const raw = bracketed(line, q);
    if (raw === null) return a < 0 ? IGNORED : UNPARSEABLE;
    const wasNamed = this.named.size > 0 && this.named.delete(key(line, ks, ke, raw));
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

/** The text inside `host[...]` starting at q (the host name has no `[`), or null. */
function bracketed(line: string, q: number): string | null {
  const b = line.indexOf('[', q);
  if (b < 0) return null;
  const sp = line.indexOf(' ', q);
  if (sp >= 0 && sp < b) return null;
  const e = line.indexOf(']', b + 1);
  return e < 0 ? null : line.slice(b + 1, e);
}

function key(line: string, ks: number, ke: number, rawIp: string): string {
  return `${line.slice(ks, ke)}\u0000${rawIp}`;
}
