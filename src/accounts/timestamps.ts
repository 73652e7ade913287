import type { LogClock } from './clock.js';

/**
 * Timestamp readers for the log formats, on char codes (no regex, no substrings): each returns the
 * index just past the timestamp, or -1, and fills a reused `Stamp`; `stampTime` turns it into
 * epoch seconds only for lines that carry an event.
 */

export const NO_STAMP = 0;
/** Month, day and time, no year, no zone (classic syslog). */
export const CLASSIC = 1;
/** Full date and time with an explicit UTC offset. */
export const ZONED = 2;
/** Full date and time, no zone (Exim, Dovecot, OpenWebMail). */
export const WALL = 3;
/** Epoch seconds known (tai64n). */
export const EPOCH = 4;

export interface Stamp {
  kind: number;
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  frac: number;
  /** Minutes east of UTC (ZONED). */
  off: number;
  epoch: number;
}

export function newStamp(): Stamp {
  return { kind: NO_STAMP, y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0, frac: 0, off: 0, epoch: 0 };
}

/** Epoch seconds and whether year or zone were assumed. */
export function stampTime(st: Stamp, clock: LogClock, fallback: number): [number, boolean] {
  switch (st.kind) {
    case CLASSIC:
      return [clock.syslog(st.mo, st.d, st.h, st.mi, st.s) + st.frac, true];
    case ZONED:
      return [clock.withOffset(st.y, st.mo, st.d, st.h, st.mi, st.s, st.off) + st.frac, false];
    case WALL:
      return [clock.wall(st.y, st.mo, st.d, st.h, st.mi, st.s) + st.frac, true];
    case EPOCH:
      return [st.epoch, false];
    default:
      return [fallback, true];
  }
}

/** `stampTime`'s number alone (no tuple per line: the line parser's hot path). */
export function stampTs(st: Stamp, clock: LogClock, fallback: number): number {
  switch (st.kind) {
    case CLASSIC:
      return clock.syslog(st.mo, st.d, st.h, st.mi, st.s) + st.frac;
    case ZONED:
      return clock.withOffset(st.y, st.mo, st.d, st.h, st.mi, st.s, st.off) + st.frac;
    case WALL:
      return clock.wall(st.y, st.mo, st.d, st.h, st.mi, st.s) + st.frac;
    case EPOCH:
      return st.epoch;
    default:
      return fallback;
  }
}

/** `stampTime`'s flag alone: the year or the zone was assumed. */
export function stampGuessed(st: Stamp): boolean {
  return st.kind !== ZONED && st.kind !== EPOCH;
}

/** `Jan`..`Dec` at i → 0..11, else -1. */
export function month3(line: string, i: number): number {
  const a = line.charCodeAt(i);
  const b = line.charCodeAt(i + 1);
  const c = line.charCodeAt(i + 2);
  switch (a) {
    case 74: // J
      if (b === 97 && c === 110) return 0; // Jan
      if (b === 117) return c === 110 ? 5 : c === 108 ? 6 : -1; // Jun Jul
      return -1;
    case 70:
      return b === 101 && c === 98 ? 1 : -1; // Feb
    case 77:
      return b === 97 ? (c === 114 ? 2 : c === 121 ? 4 : -1) : -1; // Mar May
    case 65:
      return b === 112 && c === 114 ? 3 : b === 117 && c === 103 ? 7 : -1; // Apr Aug
    case 83:
      return b === 101 && c === 112 ? 8 : -1; // Sep
    case 79:
      return b === 99 && c === 116 ? 9 : -1; // Oct
    case 78:
      return b === 111 && c === 118 ? 10 : -1; // Nov
    case 68:
      return b === 101 && c === 99 ? 11 : -1; // Dec
    default:
      return -1;
  }
}

function dig(line: string, i: number): number {
  const c = line.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function d2(line: string, i: number): number {
  const a = dig(line, i);
  const b = dig(line, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/** `HH:MM:SS` at i into st; false if not one. */
function hms(line: string, i: number, st: Stamp): boolean {
  const h = d2(line, i);
  const mi = d2(line, i + 3);
  const s = d2(line, i + 6);
  if (h < 0 || mi < 0 || s < 0 || line.charCodeAt(i + 2) !== 58 || line.charCodeAt(i + 5) !== 58 || h > 23 || mi > 59 || s > 60) return false;
  st.h = h;
  st.mi = mi;
  st.s = s;
  return true;
}

/** `.ffffff` / `,fff` at i: sets st.frac and returns the index after it. */
function fraction(line: string, i: number, st: Stamp): number {
  st.frac = 0;
  const c = line.charCodeAt(i);
  if (c !== 46 && c !== 44) return i;
  let j = i + 1;
  let scale = 0.1;
  let f = 0;
  for (let v = dig(line, j); v >= 0; v = dig(line, ++j)) {
    f += v * scale;
    scale /= 10;
  }
  if (j === i + 1) return i;
  st.frac = f;
  return j;
}

/** Classic syslog `Mmm dd HH:MM:SS` / `Mmm  d HH:MM:SS` / `Mmm d HH:MM:SS` at i. */
export function classicStamp(line: string, i: number, st: Stamp): number {
  const mo = month3(line, i);
  if (mo < 0 || line.charCodeAt(i + 3) !== 32) return -1;
  let j = i + 4;
  if (line.charCodeAt(j) === 32) j++;
  let d = dig(line, j);
  if (d < 0) return -1;
  j++;
  const d1 = dig(line, j);
  if (d1 >= 0) {
    d = d * 10 + d1;
    j++;
  }
  if (line.charCodeAt(j) !== 32 || d < 1 || d > 31 || !hms(line, j + 1, st)) return -1;
  st.kind = CLASSIC;
  st.mo = mo;
  st.d = d;
  return fraction(line, j + 9, st);
}

/**
 * `YYYY-MM-DD` then `T` or a space, `HH:MM:SS`, optional fraction, optional zone (`Z`,
 * `+HH:MM`, `+HHMM`, or — after a space, as Exim writes it — ` +HHMM`). Returns the index after it.
 */
export function isoStamp(line: string, i: number, st: Stamp): number {
  const y = d2(line, i) * 100 + d2(line, i + 2);
  const mo = d2(line, i + 5);
  const d = d2(line, i + 8);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || line.charCodeAt(i + 4) !== 45 || line.charCodeAt(i + 7) !== 45) return -1;
  const sep = line.charCodeAt(i + 10);
  if ((sep !== 84 && sep !== 32) || !hms(line, i + 11, st)) return -1;
  st.y = y;
  st.mo = mo - 1;
  st.d = d;
  let j = fraction(line, i + 19, st);
  let z = line.charCodeAt(j);
  let spaced = false;
  if (z === 32 && sep === 32 && (line.charCodeAt(j + 1) === 43 || line.charCodeAt(j + 1) === 45) && dig(line, j + 2) >= 0) {
    spaced = true;
    j++;
    z = line.charCodeAt(j);
  }
  if (z === 90 /* Z */ && !spaced) {
    st.kind = ZONED;
    st.off = 0;
    return j + 1;
  }
  if (z === 43 || z === 45) {
    const hh = d2(line, j + 1);
    let mm = 0;
    let k = j + 3;
    if (line.charCodeAt(k) === 58) k++;
    const m2 = d2(line, k);
    if (m2 >= 0) {
      mm = m2;
      k += 2;
    } else if (line.charCodeAt(j + 3) === 58) k = j + 3; // "+01:" is not a zone
    if (hh >= 0 && hh <= 18) {
      st.kind = ZONED;
      st.off = (z === 45 ? -1 : 1) * (hh * 60 + mm);
      return k;
    }
    if (spaced) j--;
  }
  st.kind = WALL;
  return j;
}

/** Apache `[dd/Mon/yyyy:HH:MM:SS +zzzz]` with i at `[`; returns the index after `]`. */
export function apacheStamp(line: string, i: number, st: Stamp): number {
  const d = d2(line, i + 1);
  const mo = month3(line, i + 4);
  const y = d2(line, i + 8) * 100 + d2(line, i + 10);
  if (d < 1 || mo < 0 || y < 0 || line.charCodeAt(i + 3) !== 47 || line.charCodeAt(i + 7) !== 47 || line.charCodeAt(i + 12) !== 58 || !hms(line, i + 13, st))
    return -1;
  st.y = y;
  st.mo = mo;
  st.d = d;
  const z = line.charCodeAt(i + 22);
  if (line.charCodeAt(i + 21) === 32 && (z === 43 || z === 45)) {
    const hh = d2(line, i + 23);
    const mm = d2(line, i + 25);
    if (hh < 0 || mm < 0 || line.charCodeAt(i + 27) !== 93) return -1;
    st.kind = ZONED;
    st.off = (z === 45 ? -1 : 1) * (hh * 60 + mm);
    st.frac = 0;
    return i + 28;
  }
  if (line.charCodeAt(i + 21) !== 93) return -1;
  st.kind = WALL;
  st.frac = 0;
  return i + 22;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `Www Mmm dd HH:MM:SS YYYY` (ctime, as OpenWebMail writes it) at i; index after the year. */
export function ctimeStamp(line: string, i: number, st: Stamp): number {
  if (line.charCodeAt(i + 3) !== 32 || !WEEKDAYS.includes(line.slice(i, i + 3))) return -1;
  const e = classicStamp(line, i + 4, st);
  if (e < 0 || line.charCodeAt(e) !== 32) return -1;
  const y = d2(line, e + 1) * 100 + d2(line, e + 3);
  if (y < 0) return -1;
  st.y = y;
  st.kind = WALL;
  return e + 5;
}

/** daemontools tai64n label `@4000000XXXXXXXXXYYYYYYYY` at i; index after it. */
export function tai64nStamp(line: string, i: number, st: Stamp): number {
  if (line.charCodeAt(i) !== 64 || line.length < i + 25 || !line.startsWith('@40000000', i)) return -1;
  const secs = parseInt(line.slice(i + 9, i + 17), 16);
  const nanos = parseInt(line.slice(i + 17, i + 25), 16);
  if (!Number.isFinite(secs) || !Number.isFinite(nanos)) return -1;
  st.kind = EPOCH;
  // TAI64 labels run 10 s ahead of UTC (the 1972 offset; leap seconds since are not removed).
  st.epoch = secs - 10 + Math.floor(nanos / 1000) / 1e6;
  return i + 25;
}
