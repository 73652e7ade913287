import { canonicalIp } from './ip.js';
import { FAILURE, IGNORED, SUCCESS, UNPARSEABLE, type Hit, type Verdict } from './hit.js';
import { apacheStamp, type Stamp } from './timestamps.js';

/**
 * Apache / nginx access logs, common or combined format, optionally with a leading virtual host
 * (`vhost_combined`, `%v:%p`): `[vhost[:port] ]ip ident user [dd/Mon/yyyy:HH:MM:SS +zzzz]
 * "request" status ...`.
 *
 * A line with an authenticated user (`user` not `-`; quotes around it are removed) is a success,
 * unless the status is 401 or 407 (the credentials were refused): then it is a failure (reason
 * `http-401`). Lines without a user are ignored, 401 challenges included (a browser's first
 * request always gets one). The client must be an address (HostnameLookups Off).
 */

/** Index of the ` [` that opens an access-log timestamp, or -1 when the line is not one. */
export function accessLogBracket(line: string): number {
  const b = line.indexOf(' [');
  if (b < 0) return -1;
  // "[dd/Mon/yyyy:" — cheap shape test before the full parse.
  return line.charCodeAt(b + 4) === 47 && line.charCodeAt(b + 8) === 47 && line.charCodeAt(b + 13) === 58 ? b : -1;
}

export function parseApache(line: string, b: number, hit: Hit, st: Stamp): Verdict {
  const userStart = line.lastIndexOf(' ', b - 1) + 1;
  if (userStart === 0) return UNPARSEABLE;
  if (b - userStart === 1 && line.charCodeAt(userStart) === 45 /* - */) return IGNORED; // no user
  const identStart = line.lastIndexOf(' ', userStart - 2) + 1;
  if (identStart === 0) return UNPARSEABLE;
  const ipStart = line.lastIndexOf(' ', identStart - 2) + 1;
  let user = line.slice(userStart, b);
  if (user.length >= 2 && user.charCodeAt(0) === 34 && user.charCodeAt(user.length - 1) === 34) user = user.slice(1, -1);
  if (user === '' || user === '-') return IGNORED;
  const end = apacheStamp(line, b + 1, st);
  if (end < 0) return UNPARSEABLE;
  // The request: `"..."` with `\"` escapes, then the status.
  if (line.charCodeAt(end) !== 32 || line.charCodeAt(end + 1) !== 34) return UNPARSEABLE;
  let q = end + 2;
  for (;;) {
    q = line.indexOf('"', q);
    if (q < 0) return UNPARSEABLE;
    if (line.charCodeAt(q - 1) !== 92 /* \ */) break;
    q++;
  }
  const status = Number(line.slice(q + 2, q + 5));
  if (line.charCodeAt(q + 1) !== 32 || !(status >= 100 && status <= 599)) return UNPARSEABLE;
  const ip = canonicalIp(line.slice(ipStart, identStart - 1));
  if (ip === null) return UNPARSEABLE;
  hit.ip = ip;
  hit.user = user;
  hit.method = 'http';
  if (status === 401 || status === 407) {
    hit.reason = 'http-401';
    return FAILURE;
  }
  return SUCCESS;
}
