import { canonicalIp } from './ip.js';
import { FAILURE, IGNORED, SUCCESS, UNPARSEABLE, type Hit, type Verdict } from './hit.js';

/**
 * OpenWebMail's own log (`openwebmail.log`), `p` just past the ctime timestamp:
 * `Www Mmm dd HH:MM:SS YYYY - [pid] (ip) user - event - detail`.
 *
 * `login` is a success; `login error` a failure (reason `login-error`). The `userinfo error` line
 * that precedes a failed login for an unknown user is the same attempt, and is ignored.
 */
export function parseOpenWebMail(line: string, p: number, hit: Hit): Verdict {
  if (!line.startsWith(' - [', p)) return UNPARSEABLE;
  const pidEnd = line.indexOf('] (', p + 4);
  if (pidEnd < 0) return UNPARSEABLE;
  const ipEnd = line.indexOf(') ', pidEnd + 3);
  if (ipEnd < 0) return UNPARSEABLE;
  const userEnd = line.indexOf(' - ', ipEnd + 2);
  if (userEnd < 0) return UNPARSEABLE;
  const ev = userEnd + 3;
  let verdict: Verdict;
  if (line.startsWith('login - ', ev) || (line.startsWith('login', ev) && ev + 5 === line.length)) verdict = SUCCESS;
  else if (line.startsWith('login error', ev)) verdict = FAILURE;
  else return IGNORED;
  const ip = canonicalIp(line.slice(pidEnd + 3, ipEnd));
  if (ip === null) return UNPARSEABLE;
  hit.ip = ip;
  const user = line.slice(ipEnd + 2, userEnd);
  hit.user = user === '' ? null : user;
  hit.method = 'webmail';
  if (verdict === FAILURE) hit.reason = 'login-error';
  return verdict;
}
