/**
 * Byte-level reading of SMTP lines for the session: reply starts, command verbs and AUTH mechanism
 * names, by byte compares (no regex, no string per line for the common cases).
 */

export function isDigit(b: number): boolean {
  return b >= 48 && b <= 57;
}

/** `DDD ` / `DDD-` / `DDD\r` at buf[s]: the start of an SMTP reply line. */
export function isReplyStart(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s < 4) return false;
  const sep = buf[s + 3]!;
  return isDigit(buf[s]!) && isDigit(buf[s + 1]!) && isDigit(buf[s + 2]!) && (sep === 32 || sep === 45 || sep === 13);
}

/** The command verb in upper case when it is one we act on, else ''. Byte compares, no regex. */
export function verbOf(buf: Buffer, s: number, e: number): string {
  const n = e - s;
  const c0 = buf[s]! | 0x20;
  if (c0 === 0x61 && n >= 4 && eqi(buf, s, 'auth') && (n === 4 || buf[s + 4] === 32)) return 'AUTH';
  if (c0 === 0x73 && n === 8 && eqi(buf, s, 'starttls')) return 'STARTTLS';
  if (c0 === 0x64 && n === 4 && eqi(buf, s, 'data')) return 'DATA';
  if (c0 === 0x62 && n > 5 && eqi(buf, s, 'bdat') && buf[s + 4] === 32) return 'BDAT';
  return '';
}

function eqi(buf: Buffer, s: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[s + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Mechanism names seen in the wild, interned so the common AUTH lines allocate no string. */
const KNOWN_MECHS = [
  'PLAIN',
  'LOGIN',
  'CRAM-MD5',
  'DIGEST-MD5',
  'NTLM',
  'GSSAPI',
  'XOAUTH2',
  'OAUTHBEARER',
  'SCRAM-SHA-1',
  'SCRAM-SHA-256',
  'ANONYMOUS',
  'EXTERNAL',
];

export function mechanismName(buf: Buffer, s: number, e: number): string {
  const n = e - s;
  for (const k of KNOWN_MECHS) {
    if (k.length !== n) continue;
    let i = 0;
    for (; i < n; i++) {
      const b = buf[s + i]!;
      const c = k.charCodeAt(i);
      if (b !== c && !(c >= 65 && c <= 90 && b === c + 32)) break; // ASCII case-insensitive
    }
    if (i === n) return k;
  }
  return buf.toString('latin1', s, Math.min(e, s + 40)).toUpperCase();
}
