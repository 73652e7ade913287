import { canonicalIp } from './ip.js';
import { FAILURE, IGNORED, SUCCESS, UNPARSEABLE, userOrNull, type Hit, type Verdict } from './hit.js';

/**
 * Postfix smtpd messages (`postfix/smtpd`, `postfix/submission/smtpd`, `postfix-foo/smtpd`, ...),
 * `p` at the text after `smtpd[pid]: `.
 *
 * Success: `QUEUEID: client=host[ip][:port], sasl_method=M, sasl_username=u` — written once per
 * accepted message of an authenticated client.
 * Failure: `warning: host[ip][:port]: SASL M authentication failed: ...[, sasl_username=u]`
 * (reason `sasl`; the mechanism upper-cased).
 */

const SUCCESS_RE = /[0-9A-Za-z]+: client=[^\s[]*\[([^\]]*)\](?::\d+)?, sasl_method=([^,]*), sasl_username=(.*?)(?:, sasl_sender=.*)?\s*$/y;
const FAILURE_RE = /warning: [^\s[]*\[([^\]]*)\](?::\d+)?: SASL (\S+) authentication failed(?::.*?)?(?:, sasl_username=(.*?))?\s*$/y;

export function parsePostfix(line: string, p: number, hit: Hit): Verdict {
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
    hit.user = userOrNull(m[3]);
    hit.reason = 'sasl';
    return FAILURE;
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
  return SUCCESS;
}
