import { tsInRange } from '../source/packet-record.js';

/**
 * Text forms used by the dump printer, as tcpdump -nn writes them: MACs, local times,
 * and the two payload dumps (-X hex + ASCII, -A ASCII).
 */

const HEX = '0123456789abcdef';

export function hex2(b: number): string {
  return HEX[b >> 4]! + HEX[b & 15]!;
}

export function hex4(n: number): string {
  return hex2((n >> 8) & 255) + hex2(n & 255);
}

export function macText(buf: Uint8Array, off: number, len = 6): string {
  let s = '';
  for (let i = 0; i < len; i++) s += (i ? ':' : '') + hex2(buf[off + i]!);
  return s;
}

/** `HH:MM:SS` of a packet second in the local zone (TZ), cached per second. */
export class LocalClock {
  private lastSec = NaN;
  private lastText = '';

  hms(sec: number): string {
    if (sec === this.lastSec) return this.lastText;
    const d = new Date(sec * 1000);
    const t = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    this.lastSec = sec;
    this.lastText = t;
    return t;
  }

  /** tcpdump's default time stamp: local `HH:MM:SS.uuuuuu` (nanoseconds truncated to µs). */
  stamp(sec: number, nsec: number): string {
    if (!tsInRange(sec)) return '[timestamp out of range]';
    return `${this.hms(sec)}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}`;
  }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const isGraph = (c: number): boolean => c > 0x20 && c < 0x7f;

/**
 * tcpdump's -X layout: `\n\t0xOOOO:  hhhh hhhh …  ascii` per 16 bytes; the hex column is padded to
 * 40 characters, non-graphic bytes (space too) print as '.'. `withAscii` false gives the hex-only form.
 */
export function hexAsciiLines(buf: Uint8Array, start: number, end: number, withAscii = true): string {
  let out = '';
  for (let off = start; off < end; off += 16) {
    const stop = Math.min(end, off + 16);
    let hex = '';
    let ascii = '';
    for (let i = off; i < stop; i += 2) {
      hex += ' ' + hex2(buf[i]!) + (i + 1 < stop ? hex2(buf[i + 1]!) : '');
    }
    for (let i = off; i < stop; i++) ascii += isGraph(buf[i]!) ? String.fromCharCode(buf[i]!) : '.';
    out += `\n\t0x${hex4(off - start)}: ` + (withAscii ? `${hex.padEnd(40)}  ${ascii}` : hex);
  }
  return out;
}

/**
 * tcpdump's -A form: a newline, then the bytes with printable ASCII, space, tab and LF kept and
 * everything else as '.'; a CR prints nothing when it ends the data or is followed by LF or by
 * only one more byte.
 */
export function asciiText(buf: Uint8Array, start: number, end: number): string {
  let out = '\n';
  let run = start;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (isGraph(c) || c === 0x20 || c === 0x09 || c === 0x0a) continue;
    if (i > run) out += Buffer.from(buf.buffer, buf.byteOffset + run, i - run).toString('latin1');
    run = i + 1;
    if (c === 0x0d) {
      const left = end - i - 1;
      if (left > 1 && buf[i + 1] !== 0x0a) out += '.';
    } else out += '.';
  }
  if (end > run) out += Buffer.from(buf.buffer, buf.byteOffset + run, end - run).toString('latin1');
  return out;
}
