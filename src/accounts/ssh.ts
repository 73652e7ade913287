import { canonicalIp } from './ip.js';
import { FAILURE, IGNORED, SUCCESS, UNPARSEABLE, userOrNull, type Hit, type Verdict } from './hit.js';

/**
 * OpenSSH `sshd` / `sshd-session` messages (the text after `sshd[pid]: `).
 *
 * Success: `Accepted <method> for <user> from <ip> port <n> ssh2[: <key info>]` — every method
 * (password, publickey, keyboard-interactive/pam, hostbased, gssapi-with-mic), the key info
 * after `ssh2` included (the seed's `ssh.\s*$` anchor dropped every publickey login).
 *
 * Failures (reason):
 *   `Failed <method> for [invalid user ]<user> from <ip> ...` (failed; method `none` is a probe,
 *     not a credential, and is ignored),
 *   `Invalid user <user> from <ip>` / `Illegal user` (invalid-user),
 *   `User <user> from <ip> not allowed because ...` (not-allowed),
 *   `ROOT LOGIN REFUSED FROM <ip>` (root-refused),
 *   `pam_unix(sshd:auth): authentication failure; ... ruser=<r> rhost=<ip> [user=<user>]` (user,
 *   else ruser) and
 *   `error: PAM: Authentication failure|error for <user> from <ip>` (pam).
 * With UsePAM one password attempt is logged twice (pam + failed); both are events.
 *
 * The address is the one that ends the line (`from <ip> port <n> ssh2` then the end or `: `), so a
 * user name such as `x from 10.0.0.1 port 1 ssh2` cannot plant a fake address. A host name where
 * the address belongs (UseDNS) makes the line unparseable: counted, no event.
 */

const ADDR = '([0-9A-Fa-f:.]+(?:%[^\\s]+)?|\\S+?)';
const ACCEPTED_FAILED = new RegExp(
  `(Accepted|Failed) (\\S+) for (?:(?:invalid|illegal) user )?(.*?) from ${ADDR}(?: port \\d+)?(?: ssh[12])?(?:: .*)?\\s*$`,
  'y',
);
const INVALID_USER = new RegExp(`(?:Invalid|Illegal) user (.*?) from ${ADDR}(?: port \\d+)?\\s*$`, 'y');
const NOT_ALLOWED = new RegExp(`User (.+?) from ${ADDR} not allowed because `, 'y');
const ROOT_REFUSED = new RegExp(`ROOT LOGIN REFUSED FROM ${ADDR}(?: port \\d+)?(?: \\[preauth\\])?\\s*$`, 'y');
const PAM_UNIX = /pam_unix\(sshd:auth\): authentication failure;.*? ruser=(\S*) rhost=(\S*)(?:\s+user=(\S+))?/y;
const PAM_ERROR = new RegExp(
  `error: PAM: (?:[Aa]uthentication (?:failure|error)|User not known to the underlying authentication module) for (?:(?:illegal|invalid) user )?(.*?) from ${ADDR}(?: via \\S+)?\\s*$`,
  'y',
);

function setIp(hit: Hit, raw: string | undefined): boolean {
  const ip = raw === undefined ? null : canonicalIp(raw);
  if (ip === null) return false;
  hit.ip = ip;
  return true;
}

export function parseSsh(line: string, p: number, hit: Hit): Verdict {
  let c = line.charCodeAt(p);
  if (c === 91 /* [ */ && line.startsWith('[ID ', p)) {
    // Solaris: "[ID 800047 auth.info] Failed ..."
    const e = line.indexOf('] ', p);
    if (e < 0) return IGNORED;
    p = e + 2;
    c = line.charCodeAt(p);
  }
  let m: RegExpExecArray | null;
  switch (c) {
    case 65: // A
    case 70: // F
      ACCEPTED_FAILED.lastIndex = p;
      m = ACCEPTED_FAILED.exec(line);
      if (!m) {
        if (line.startsWith('Accepted ', p) || line.startsWith('Failed ', p)) return line.includes(' from ', p) ? UNPARSEABLE : IGNORED;
        return IGNORED;
      }
      if (m[2] === 'none') return IGNORED;
      if (!setIp(hit, m[4])) return UNPARSEABLE;
      hit.user = userOrNull(m[3]);
      hit.method = m[2];
      if (m[1] === 'Accepted') return SUCCESS;
      hit.reason = 'failed';
      return FAILURE;
    case 73: // I
      INVALID_USER.lastIndex = p;
      m = INVALID_USER.exec(line);
      if (!m) return line.startsWith('Invalid user ', p) || line.startsWith('Illegal user ', p) ? UNPARSEABLE : IGNORED;
      if (!setIp(hit, m[2])) return UNPARSEABLE;
      hit.user = userOrNull(m[1]);
      hit.reason = 'invalid-user';
      return FAILURE;
    case 85: // U
      NOT_ALLOWED.lastIndex = p;
      m = NOT_ALLOWED.exec(line);
      if (!m) return IGNORED; // "User root not allowed because account is locked": no address
      if (!setIp(hit, m[2])) return UNPARSEABLE;
      hit.user = userOrNull(m[1]);
      hit.reason = 'not-allowed';
      return FAILURE;
    case 82: // R
      ROOT_REFUSED.lastIndex = p;
      m = ROOT_REFUSED.exec(line);
      if (!m) return IGNORED;
      if (!setIp(hit, m[1])) return UNPARSEABLE;
      hit.user = 'root';
      hit.reason = 'root-refused';
      return FAILURE;
    case 112: // p
      PAM_UNIX.lastIndex = p;
      m = PAM_UNIX.exec(line);
      if (!m) return IGNORED;
      if (m[2] === '' || m[2] === undefined) return IGNORED; // local attempt, no remote host
      if (!setIp(hit, m[2])) return UNPARSEABLE;
      hit.user = userOrNull(m[3]) ?? userOrNull(m[1]);
      hit.reason = 'pam';
      return FAILURE;
    case 101: // e
      PAM_ERROR.lastIndex = p;
      m = PAM_ERROR.exec(line);
      if (!m) return IGNORED;
      if (!setIp(hit, m[2])) return UNPARSEABLE;
      hit.user = userOrNull(m[1]);
      hit.reason = 'pam';
      return FAILURE;
    default:
      return IGNORED;
  }
}
