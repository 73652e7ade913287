import { escapeControl } from '../text/control-chars.js';

/**
 * Usernames from SASL PLAIN and LOGIN exchanges. The password is never decoded: a PLAIN
 * response is decoded four base64 characters at a time and decoding stops at the NUL that ends the
 * username, so at most the two bytes sharing that last group are ever produced, and they are
 * overwritten at once.
 */

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (B64[c.charCodeAt(0)] = i));

const MAX_USER = 256;

/**
 * Printable form of the decoded name in scratch[start, start + n): control characters escaped.
 * Read straight out of the scratch Buffer: a view made per name (`subarray`, `Buffer.from`) cost
 * about as much as the decoding itself.
 */
function printable(start: number, n: number): string {
  let plain = true;
  for (let i = start; i < start + n; i++) {
    const b = scratch[i]!;
    if (b < 0x20 || b >= 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) return scratch.toString('latin1', start, start + n); // the common case: printable ASCII
  return escapeControl(scratch.toString('utf8', start, start + n));
}

/** Decoding scratch, reused (and wiped) by every call: no allocation per AUTH line. */
const scratch = Buffer.alloc(MAX_USER * 2 + 3);

/**
 * authcid (else authzid) of a PLAIN response `base64(authzid \0 authcid \0 password)` in
 * buf[start, end); null when it is not valid base64 or has no NUL.
 */
export function plainUsername(buf: Uint8Array, start: number, end: number): string | null {
  const out = scratch;
  let n = 0;
  let nuls = 0;
  let authzEnd = -1;
  for (let i = start; i + 4 <= end; i += 4) {
    const a = B64[buf[i]!]!,
      b = B64[buf[i + 1]!]!;
    const c = buf[i + 2] === 61 ? 0 : B64[buf[i + 2]!]!;
    const d = buf[i + 3] === 61 ? 0 : B64[buf[i + 3]!]!;
    if (a < 0 || b < 0 || c < 0 || d < 0) break;
    let v = (a << 18) | (b << 12) | (c << 6) | d;
    const count = buf[i + 2] === 61 ? 1 : buf[i + 3] === 61 ? 2 : 3;
    for (let k = 0; k < count; k++) {
      const byte = (v >> (16 - 8 * k)) & 255;
      if (byte === 0) {
        nuls++;
        if (nuls === 1) authzEnd = n;
        else {
          // eslint-disable-next-line no-useless-assignment -- scrubs the password bits on purpose
          v = 0; // the bytes after the second NUL belong to the password
          const authcid = printable(authzEnd, n - authzEnd);
          const authzid = printable(0, authzEnd);
          out.fill(0, 0, n);
          return authcid || authzid || null;
        }
        continue;
      }
      if (n < out.length) out[n++] = byte;
    }
  }
  out.fill(0, 0, n);
  return null;
}

/** A LOGIN username line (base64 of the name, nothing else). */
export function loginUsername(buf: Uint8Array, start: number, end: number): string | null {
  while (end > start && (buf[end - 1] === 32 || buf[end - 1] === 9)) end--;
  while (start < end && (buf[start] === 32 || buf[start] === 9)) start++;
  const out = scratch;
  let n = 0;
  for (let i = start; i < end; i += 4) {
    if (end - i < 2) return wipe(n);
    const a = B64[buf[i]!]!,
      b = B64[buf[i + 1]!]!;
    const pc = i + 2 < end ? buf[i + 2]! : 61;
    const pd = i + 3 < end ? buf[i + 3]! : 61;
    const c = pc === 61 ? 0 : B64[pc]!;
    const d = pd === 61 ? 0 : B64[pd]!;
    if (a < 0 || b < 0 || c < 0 || d < 0) return wipe(n);
    if ((pc === 61 || pd === 61) && i + 4 < end) return wipe(n); // padding only at the end
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    const count = pc === 61 ? 1 : pd === 61 ? 2 : 3;
    for (let k = 0; k < count && n < MAX_USER; k++) out[n++] = (v >> (16 - 8 * k)) & 255;
  }
  const name = n > 0 ? printable(0, n) : null;
  out.fill(0, 0, n);
  return name;
}

function wipe(n: number): null {
  scratch.fill(0, 0, n);
  return null;
}
