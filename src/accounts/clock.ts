/**
 * Wall-clock → epoch conversion for log timestamps, with the two assumptions logs force on us:
 * the time zone of a timestamp that has none (default: this process's local zone, i.e. `TZ`),
 * and the year of a classic syslog timestamp (`Feb 13 00:15:16`), guessed as the year that puts
 * the line at most two days after the file's modification time (a log is written before it is
 * last modified), so a rotated December log read in January lands in the right year.
 */

/** `local`, or a fixed offset east of UTC in minutes. */
export type Zone = 'local' | number;

/** Parses `local`, `UTC`/`Z`, `+01:00`, `-0500`, `+1`; throws on anything else. */
export function parseZone(tz: string | undefined): Zone {
  if (tz === undefined || tz === '' || tz.toLowerCase() === 'local') return 'local';
  if (/^(utc|gmt|z)$/i.test(tz)) return 0;
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(tz.trim());
  if (!m) throw new Error(`time zone must be local, UTC or an offset such as +01:00, got "${tz}"`);
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (minutes > 18 * 60) throw new Error(`time zone offset out of range: ${tz}`);
  return m[1] === '-' ? -minutes : minutes;
}

const DAY = 86400;
/** Lines may be up to this far after the reference time and still belong to its year. */
const YEAR_SLACK = 2 * DAY;

export class LogClock {
  private readonly refYear: number;
  // One-entry memos: log lines come in time order, so the hour rarely changes between lines.
  private localKey = -1;
  private localBase = 0;
  private utcKey = -1;
  private utcBase = 0;
  private syslogKey = -1;
  private syslogBase = 0;

  /**
   * @param refTs the moment the log was last written (file mtime; now for stdin), epoch seconds
   * @param year a fixed year for timestamps without one (overrides the guess)
   */
  constructor(
    readonly zone: Zone,
    readonly refTs: number,
    readonly year?: number,
  ) {
    this.refYear = year ?? partsOf(refTs, zone).y;
  }

  /** Epoch seconds of a wall time (month 0-11) in the assumed zone. */
  wall(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
    const key = ((y * 12 + mo) * 32 + d) * 24 + h;
    if (key !== this.localKey) {
      this.localKey = key;
      this.localBase = this.zone === 'local' ? new Date(y, mo, d, h).getTime() / 1000 : Date.UTC(y, mo, d, h) / 1000 - this.zone * 60;
    }
    return this.localBase + mi * 60 + s;
  }

  /** Epoch seconds of a UTC wall time minus `offsetMin` (the timestamp's own offset east of UTC). */
  withOffset(y: number, mo: number, d: number, h: number, mi: number, s: number, offsetMin: number): number {
    const key = ((y * 12 + mo) * 32 + d) * 24 + h;
    if (key !== this.utcKey) {
      this.utcKey = key;
      this.utcBase = Date.UTC(y, mo, d, h) / 1000;
    }
    return this.utcBase + mi * 60 + s - offsetMin * 60;
  }

  /** A classic syslog timestamp (no year): the year is fixed or guessed from the reference time. */
  syslog(mo: number, d: number, h: number, mi: number, s: number): number {
    const key = (mo * 32 + d) * 24 + h;
    if (key !== this.syslogKey) {
      this.syslogKey = key;
      let base = this.wall(this.refYear, mo, d, h, 0, 0);
      if (this.year === undefined && base > this.refTs + YEAR_SLACK) base = this.wall(this.refYear - 1, mo, d, h, 0, 0);
      this.syslogBase = base;
    }
    return this.syslogBase + mi * 60 + s;
  }
}

export interface WallParts {
  y: number;
  /** 0-11 */
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

/** Wall-clock parts of an epoch time in a zone. */
export function partsOf(ts: number, zone: Zone): WallParts {
  if (zone === 'local') {
    const t = new Date(Math.floor(ts) * 1000);
    return { y: t.getFullYear(), mo: t.getMonth(), d: t.getDate(), h: t.getHours(), mi: t.getMinutes(), s: t.getSeconds() };
  }
  const t = new Date((Math.floor(ts) + zone * 60) * 1000);
  return { y: t.getUTCFullYear(), mo: t.getUTCMonth(), d: t.getUTCDate(), h: t.getUTCHours(), mi: t.getUTCMinutes(), s: t.getUTCSeconds() };
}

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `Feb 13` */
export function dayLabel(p: WallParts): string {
  return `${MONTHS[p.mo]} ${two(p.d)}`;
}

/** `00:15:16` */
export function timeLabel(p: WallParts): string {
  return `${two(p.h)}:${two(p.mi)}:${two(p.s)}`;
}

/** `2023-02-13` */
export function isoDay(p: WallParts): string {
  return `${p.y}-${two(p.mo + 1)}-${two(p.d)}`;
}

/** ISO 8601 with the zone's offset, e.g. `2023-02-13T00:15:16+01:00` (UTC: `Z`). */
export function isoTime(ts: number, zone: Zone): string {
  const p = partsOf(ts, zone);
  let off: number;
  if (zone === 'local') off = -new Date(Math.floor(ts) * 1000).getTimezoneOffset();
  else off = zone;
  const frac = ts % 1 === 0 ? '' : (ts % 1).toFixed(6).slice(1).replace(/0+$/, '');
  const z = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${two(Math.floor(Math.abs(off) / 60))}:${two(Math.abs(off) % 60)}`;
  return `${isoDay(p)}T${timeLabel(p)}${frac}${z}`;
}
