/**
 * Text from the wire and from logs (usernames, server replies) printed for a terminal: a control
 * character in it could move the cursor, recolour, retitle or clear the screen of whoever reads
 * the report, or forge a line. So C0 controls (newline and tab too), DEL and C1 controls print as
 * `\xNN`, and the bidirectional-override marks (which can make text read backwards) as `\uNNNN`.
 * Everything else, backslashes included, is left as it is; the result has no control characters,
 * so escaping twice changes nothing. JSON output needs none of this: JSON.stringify escapes them.
 */

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const ANY_UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function escapeOne(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** `s` with its control characters escaped (the same string when it has none). */
export function escapeControl(s: string): string {
  return ANY_UNSAFE.test(s) ? s.replace(UNSAFE, escapeOne) : s;
}
