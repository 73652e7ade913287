import { canonicalIp } from './ip.js';
import { FAILURE, IGNORED, SUCCESS, UNPARSEABLE, userOrNull, type Hit, type Verdict } from './hit.js';

/**
 * Dovecot 2.2–2.4 messages. `p` points at the component that logged the line: after a syslog
 * `dovecot:` / `dovecot[pid]:` prefix, or at the start of a line of Dovecot's own log file
 * (`imap-login: Info: ...`, `auth-worker(123): ...`).
 *
 * Success: `{imap,pop3,submission,managesieve,lmtp}-login: [Info: ]Login: user=<u>, method=M,
 * rip=IP, ...` and `... proxy(u): started proxying to ...` (the client authenticated; Dovecot
 * passes it on).
 *
 * Failures (reason):
 *   login process `(auth failed, N attempts ...)` (2.2/2.3) or `(auth_failed)` (2.4), and
 *     `(proxy dest auth failed)` → auth-failed; the line is written when the client disconnects
 *     and stands for N failed attempts (`hit.count` = N, at most MAX_LOGIN_ATTEMPTS; 1 when the
 *     line gives no N),
 *   passdb `driver(user,ip[,...]): unknown user` → unknown-user, `Password mismatch` /
 *     `invalid credentials` → password-mismatch, `pam_authenticate() failed` → pam — in the 2.3
 *     `auth-worker(pid): ...` form and the 2.4 `auth(user,ip,...)<session>: Info: sql: ...` form,
 *   `pam_unix(dovecot:auth): authentication failure; ... rhost=IP` → pam.
 * `(no auth attempts)`, `(tried to use disallowed plaintext auth)` and the like are not
 * credential failures and are ignored.
 *
 * Login-process lines (successes and failures) carry their protocol in `hit.proto` (`imap`,
 * `pop3`, `submission`, `managesieve`, ...); the auth process's lines (passdb, PAM) do not know
 * which service asked — Postfix's SASL goes through the same auth process — so they have none.
 */

/** Cap of the `N attempts` a login-process line may stand for (a sanity bound, not Dovecot's). */
export const MAX_LOGIN_ATTEMPTS = 100;

const PASSDB =
  /[\w-]+\(([^,()]*),([0-9A-Fa-f:.]+)(?:,[^()]*)?\)(?:<[^>]*>)?: (?:(?:Info|Debug|Warning|Error): )?(?:[\w-]+: )?(unknown user|Password mismatch|pam_authenticate\(\) failed: (?:User not known)?|invalid credentials)/g;

export function parseDovecot(line: string, p: number, hit: Hit): Verdict {
  // Skip nested "dovecot: " prefixes ("dovecot[442]: dovecot: auth(default): ...").
  for (let i = 0; i < 2 && line.charCodeAt(p) === 100 /* d */ && line.startsWith('dovecot', p); i++) {
    const c = line.indexOf(': ', p);
    if (c < 0) return IGNORED;
    p = c + 2;
  }
  const colon = line.indexOf(': ', p);
  if (colon < 0) return IGNORED;
  let rest = colon + 2;
  if (line.charCodeAt(colon - 1) === 110 /* n */ && line.startsWith('-login', colon - 6)) {
    hit.proto = loginProto(line, p, colon - 6);
    rest = skipLevel(line, rest);
    if (line.startsWith('Login: ', rest)) return loginFields(line, rest, hit, SUCCESS);
    const proxy = line.indexOf('started proxying', rest);
    if (proxy >= 0 && line.startsWith('proxy(', rest)) return loginFields(line, rest, hit, SUCCESS);
    if (line.indexOf('(auth failed', rest) >= 0 || line.indexOf('(auth_failed)', rest) >= 0 || line.indexOf('(proxy dest auth failed)', rest) >= 0) {
      hit.reason = 'auth-failed';
      hit.count = attempts(line, rest);
      return loginFields(line, rest, hit, FAILURE);
    }
    return IGNORED;
  }
  if (line.charCodeAt(p) === 97 /* a */ && line.startsWith('auth', p)) {
    PASSDB.lastIndex = p;
    const m = PASSDB.exec(line);
    if (m) {
      const ip = canonicalIp(m[2]!);
      if (ip === null) return UNPARSEABLE;
      hit.ip = ip;
      const u = m[1]!;
      hit.user = u === '?' ? null : userOrNull(u);
      const what = m[3]!;
      hit.reason = what.startsWith('unknown') || what.endsWith('User not known') ? 'unknown-user' : what.startsWith('pam') ? 'pam' : 'password-mismatch';
      return FAILURE;
    }
    return pamUnix(line, p, hit);
  }
  if (line.startsWith('pam_unix(dovecot:auth)', p)) return pamUnix(line, p, hit);
  return IGNORED;
}

/** `imap` of `imap-login` (line[s, e) is the component up to `-login`); constants for the usual ones. */
function loginProto(line: string, s: number, e: number): string {
  const sp = line.lastIndexOf(' ', e);
  if (sp >= s) s = sp + 1;
  switch (e - s) {
    case 4:
      if (line.startsWith('imap', s)) return 'imap';
      if (line.startsWith('pop3', s)) return 'pop3';
      if (line.startsWith('lmtp', s)) return 'lmtp';
      break;
    case 10:
      if (line.startsWith('submission', s)) return 'submission';
      break;
    case 11:
      if (line.startsWith('managesieve', s)) return 'managesieve';
      break;
  }
  return line.slice(s, e);
}

/** N of `(auth failed, N attempts` (1 when absent), at most MAX_LOGIN_ATTEMPTS. */
function attempts(line: string, p: number): number {
  const a = line.indexOf('(auth failed, ', p);
  if (a < 0) return 1;
  let i = a + 14;
  let n = 0;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57 && n <= MAX_LOGIN_ATTEMPTS; c = line.charCodeAt(++i)) n = n * 10 + c - 48;
  return n < 1 ? 1 : n > MAX_LOGIN_ATTEMPTS ? MAX_LOGIN_ATTEMPTS : n;
}

function skipLevel(line: string, p: number): number {
  const c = line.charCodeAt(p);
  if ((c === 73 && line.startsWith('Info: ', p)) || (c === 68 && line.startsWith('Debug: ', p))) return line.indexOf(' ', p) + 1;
  return p;
}

function pamUnix(line: string, p: number, hit: Hit): Verdict {
  const pam = line.indexOf('pam_unix(dovecot:auth): authentication failure;', p);
  if (pam < 0) return IGNORED;
  const r = line.indexOf(' rhost=', pam);
  if (r < 0) return IGNORED;
  const end = tokenEnd(line, r + 7);
  if (end === r + 7) return IGNORED;
  const ip = canonicalIp(line.slice(r + 7, end));
  if (ip === null) return UNPARSEABLE;
  hit.ip = ip;
  const u = line.indexOf(' user=', end);
  hit.user = u < 0 ? null : userOrNull(line.slice(u + 6, tokenEnd(line, u + 6)));
  hit.reason = 'pam';
  return FAILURE;
}

function tokenEnd(line: string, p: number): number {
  let i = p;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 44 || c === 9) break;
    i++;
  }
  return i;
}

/** user=<u>, method=M, rip=IP from a login-process line. */
function loginFields(line: string, p: number, hit: Hit, verdict: Verdict): Verdict {
  let r = line.indexOf('rip=', p);
  while (r > 0 && line.charCodeAt(r - 1) !== 32 && line.charCodeAt(r - 1) !== 44) r = line.indexOf('rip=', r + 4);
  if (r < 0) return UNPARSEABLE;
  const ip = canonicalIp(line.slice(r + 4, tokenEnd(line, r + 4)));
  if (ip === null) return UNPARSEABLE;
  hit.ip = ip;
  const u = line.indexOf('user=<', p);
  if (u >= 0) {
    const e = line.indexOf('>', u + 6);
    hit.user = e < 0 ? null : userOrNull(line.slice(u + 6, e));
  } else if (line.startsWith('proxy(', p)) {
    const e = line.indexOf(')', p + 6);
    hit.user = e < 0 ? null : userOrNull(line.slice(p + 6, e));
  }
  const m = line.indexOf('method=', p);
  if (m >= 0) hit.method = line.slice(m + 7, tokenEnd(line, m + 7));
  return verdict;
}
