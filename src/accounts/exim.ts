import { canonicalIp } from './ip.js';
import { FAILURE, IGNORED, SUCCESS, UNPARSEABLE, userOrNull, type Hit, type Verdict } from './hit.js';

/**
 * Exim main log messages (after the `YYYY-MM-DD HH:MM:SS[.fff][ +zzzz] [[pid] ]` prefix, which the
 * dispatcher removes; also when syslogged as `exim[pid]: ...`).
 *
 * Success: a message arrival `<id> <= sender ... H=[host ][(helo) ][ip][:port] ... A=<name>[:id]`
 * with any authenticator name (`plain`, `login`, `dovecot_plain`, `au1`, ...); the user is the
 * `server_set_id` after the colon (none: null). The client address is the first `[...]` of the
 * `H=` field outside the HELO parentheses — never `I=[...]`, the server's own interface address,
 * which the seed picked up when `+incoming_interface` was logged.
 *
 * Failure: `<name> authenticator failed for [host ][(helo) ][ip][:port][ I=...]: 535 ...
 * [(set_id=user)]` (reason `authenticator`, method = the authenticator name).
 */

/** Position of the first `[addr]` after `from`, outside parentheses (the HELO), and its end. */
function bracketAddress(line: string, from: number): string | null {
  let depth = 0;
  const n = line.length;
  for (let i = from; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 40 /* ( */) depth++;
    else if (c === 41 /* ) */) {
      if (depth > 0) depth--;
    } else if (c === 91 /* [ */ && depth === 0) {
      const e = line.indexOf(']', i + 1);
      return e < 0 ? null : line.slice(i + 1, e);
    } else if (depth === 0 && c === 32 && line.charCodeAt(i + 2) === 61 /* X= */ && i > from) {
      // Next field (" P=", " S=", " I=" ...) before any address: there is none.
      const f = line.charCodeAt(i + 1);
      if (f >= 65 && f <= 90) return null;
    }
  }
  return null;
}

export function parseExim(line: string, p: number, hit: Hit): Verdict {
  const a = line.indexOf(' A=', p);
  if (a >= 0) {
    const arrow = line.indexOf(' <= ', p);
    if (arrow < 0 || arrow > a) return IGNORED; // A= on a delivery (=>) line is our own client-side auth
    const h = line.indexOf(' H=', arrow);
    if (h < 0) return IGNORED; // local submission (-bs), no client address
    const raw = bracketAddress(line, h + 3);
    if (raw === null) return UNPARSEABLE;
    const ip = canonicalIp(raw);
    if (ip === null) return UNPARSEABLE;
    let e = line.indexOf(' ', a + 3);
    if (e < 0) e = line.length;
    const colonAt = line.indexOf(':', a + 3);
    if (colonAt > 0 && colonAt < e && line.charCodeAt(colonAt + 1) === 34 /* " */) {
      // A quoted id may hold spaces: A=plain:"first last"
      const q = line.indexOf('"', colonAt + 2);
      if (q > 0) e = q + 1;
    }
    const field = line.slice(a + 3, e);
    const colon = field.indexOf(':');
    hit.ip = ip;
    hit.method = colon < 0 ? field : field.slice(0, colon);
    hit.user = colon < 0 ? null : userOrNull(unquote(field.slice(colon + 1)));
    return SUCCESS;
  }
  const f = line.indexOf(' authenticator failed for ', p);
  if (f < 0) return IGNORED;
  const raw = bracketAddress(line, f + 26);
  if (raw === null) return UNPARSEABLE;
  const ip = canonicalIp(raw);
  if (ip === null) return UNPARSEABLE;
  hit.ip = ip;
  hit.method = line.slice(line.lastIndexOf(' ', f - 1) + 1, f);
  const s = line.indexOf('(set_id=', f);
  if (s >= 0) {
    const e = line.lastIndexOf(')');
    hit.user = userOrNull(line.slice(s + 8, e > s ? e : line.length));
  }
  hit.reason = 'authenticator';
  return FAILURE;
}

function unquote(s: string): string {
  return s.length >= 2 && s.charCodeAt(0) === 34 && s.charCodeAt(s.length - 1) === 34 ? s.slice(1, -1) : s;
}
