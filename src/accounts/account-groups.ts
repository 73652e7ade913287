import { dayLabel, isoDay, isoTime, partsOf, timeLabel, type WallParts, type Zone } from './clock.js';
import { intern, internFew } from './ip.js';
import { listedByLimit } from './limit-rule.js';
import { SERVICES, type AuthLogEvent, type Service } from './types.js';
import type { Whitelist } from './whitelist.js';
import { geoInfoJson, geoText, type GeoInfo } from '../geoip/geoip.js';
import { escapeControl } from '../text/control-chars.js';

/**
 * Successful logins grouped per day and account (the seed's report), with each group's distinct
 * client addresses, listed by the limit rule (src/accounts/limit-rule.ts: N > 0: at least N
 * addresses that are not whitelisted; 0: any such address; -N: at least N, whitelisted ones too).
 *
 * `--nodate` merges the days, `--nouser` the accounts. Whitelisted accounts are never listed.
 */

export interface ReportOptions {
  limit: number;
  nodate: boolean;
  nouser: boolean;
  zone: Zone;
  /** Exact account names to keep (empty: all). */
  users: readonly string[];
  userRegex: RegExp | null;
}

export interface IpStat {
  ip: string;
  count: number;
  first: number;
  last: number;
  /**
   * Where the latest login at `last` came in the input: the report's login number (its own
   * order of `add`, shifted by `absorb` so a later share's logins come after). Of two addresses
   * whose latest logins fall in the same second, the later line is the group's Last.
   */
  lastSeq: number;
  /** Bit i set: SERVICES[i] seen. */
  serviceBits: number;
  /** Distinct methods, in the order first seen. */
  methods: string[];
}

/** Bit per service, as an object (a property load, cheaper than a Map lookup per event). */
const SERVICE_BITS = Object.fromEntries(SERVICES.map((s, i) => [s, 1 << i])) as Record<Service, number>;

export function servicesOf(bits: number): Service[] {
  return SERVICES.filter((_, i) => (bits & (1 << i)) !== 0);
}

interface GroupAcc {
  day: string | null;
  user: string | null;
  dayParts: WallParts | null;
  /**
   * The first few IPv4 addresses as numbers (a double array: one cache line, no Map table, no
   * boxed keys) with their stats at the same index; the rest of the addresses in `ips`, keyed
   * by the IPv4 number or the text of any other address.
   */
  v4: number[];
  v4Stats: IpAcc[];
  ips: Map<number | string, IpAcc>;
}

/** Addresses kept in a group's arrays before its Map is used. */
const FEW_IPS = 16;

interface IpAcc extends IpStat {
  /** Bit per method of `methodNames` seen (0 for the methods past the first 30). */
  methodBits: number;
}

const methodNames: string[] = [];

/** The bit of a method name (a scan of a handful of names, no hashing), 0 when past 30 names. */
function methodBit(m: string): number {
  const n = methodNames.length;
  for (let i = 0; i < n; i++) if (methodNames[i] === m) return i < 30 ? 1 << i : 0;
  if (n >= 30) return 0;
  methodNames.push(internFew(m));
  return 1 << n;
}

/**
 * The key of an address in a group: a canonical dotted quad (what `canonicalIp` gives) as its
 * 32-bit value, anything else (IPv6) as its text. A number never equals a string key, so the two
 * kinds cannot collide.
 */
function ipKey(ip: string): number | string {
  const n = ip.length;
  if (n < 7 || n > 15) return ip;
  let v = 0;
  let o = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || o > 255) return ip;
      v = v * 256 + o;
      o = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // Leading zeros are not canonical (`01.2.3.4` must not meet `1.2.3.4`).
      if (digits > 0 && o === 0) return ip;
      o = o * 10 + (c - 48);
      digits++;
    } else return ip;
  }
  if (dots !== 3 || digits === 0 || o > 255) return ip;
  return v * 256 + o;
}

/** A quarter hour's day (text and wall-clock parts) and the map of that day's groups per account. */
interface Quarter {
  k: number;
  day: string;
  parts: WallParts;
  byUser: Map<string | null, GroupAcc>;
}

/** One group of `AccountGroups.state`. */
export interface GroupState {
  key: string;
  day: string | null;
  user: string | null;
  dayParts: WallParts | null;
  ips: IpStat[];
}

/** `AccountGroups.state`: plain data, structured-cloneable. */
export interface ReportState {
  successes: number;
  matched: number;
  /** Logins numbered (`add` calls that reached a group): the next share's numbers start after. */
  seq: number;
  groups: GroupState[];
}

function plainStat(s: IpAcc): IpStat {
  return { ip: s.ip, count: s.count, first: s.first, last: s.last, lastSeq: s.lastSeq, serviceBits: s.serviceBits, methods: s.methods };
}

export interface ReportEntry extends IpStat {
  geo: GeoInfo | null;
  /** Why the address is whitelisted, or null. */
  whitelisted: string | null;
}

export interface ReportGroup {
  /** `2023-02-13`, or null with --nodate. */
  day: string | null;
  /** `Feb 13`, or null with --nodate. */
  dayLabel: string | null;
  /** The account, or null with --nouser (or when the log named none). */
  user: string | null;
  entries: ReportEntry[];
  last: ReportEntry;
}

export class AccountGroups {
  private readonly groups = new Map<string, GroupAcc>();
  private readonly days = new Map<string, Map<string | null, GroupAcc>>();
  private readonly userSet: Set<string> | null;
  /** The groups of all days merged (--nodate). */
  private readonly noDate = new Map<string | null, GroupAcc>();
  private readonly quarters = new Map<number, Quarter>();
  private quarter: Quarter = { k: NaN, day: '', parts: partsOf(0, 0), byUser: this.noDate };
  successes = 0;
  matched = 0;
  /** Logins numbered so far, in input order (see `IpStat.lastSeq`). */
  private seq = 0;

  constructor(
    private readonly opts: ReportOptions,
    private readonly whitelist: Whitelist | null,
  ) {
    this.userSet = opts.users.length > 0 ? new Set(opts.users) : null;
  }

  /**
   * Takes a success event (failures and tempfails are ignored here); a line that stands for
   * several logins (`ev.count`, Postfix's `auth=2`) counts as that many.
   */
  add(ev: AuthLogEvent): void {
    if (ev.outcome !== 'success') return;
    const n = ev.count ?? 1;
    this.successes += n;
    const u = ev.user;
    if (this.userSet && (u === null || !this.userSet.has(u))) return;
    if (this.opts.userRegex && (u === null || !this.opts.userRegex.test(u))) return;
    if (this.whitelist?.hasUser(u)) return;
    this.matched += n;
    let day: string | null = null;
    let parts: WallParts | null = null;
    let byUser: Map<string | null, GroupAcc>;
    if (!this.opts.nodate) {
      // Per quarter hour (a zone offset is a multiple of 15 min): its day, and that day's groups.
      // The formats' lines interleave out of time order (about every other login changes the
      // quarter hour), so every quarter hour seen is kept, keyed by its number.
      const k = Math.floor(ev.ts / 900);
      let q = this.quarter;
      if (q.k !== k) q = this.quarterOf(k, ev.ts);
      day = q.day;
      parts = q.parts;
      byUser = q.byUser;
    } else {
      byUser = this.noDate;
    }
    const user = this.opts.nouser ? null : u;
    let g = byUser.get(user);
    if (!g) {
      // Own copies of what is kept (the event's strings may point into a whole log chunk).
      const u = user === null ? null : intern(user);
      byUser.set(u, (g = { day, user: u, dayParts: parts, v4: [], v4Stats: [], ips: new Map() }));
      this.groups.set(`${day ?? ''}\u0000${u === null ? '\u0001' : `\u0002${u}`}`, g);
    }
    const s = this.statOf(g, ev.ip, ev.ts);
    s.count += n;
    if (ev.ts < s.first) s.first = ev.ts;
    // `>=`: a login in the same second as the latest one is a later line (input order).
    if (ev.ts >= s.last) {
      s.last = ev.ts;
      s.lastSeq = this.seq;
    }
    this.seq++;
    s.serviceBits |= SERVICE_BITS[ev.service];
    if (ev.method !== undefined) this.addMethod(s, ev.method);
  }

  private quarterOf(k: number, ts: number): Quarter {
    let q = this.quarters.get(k);
    if (q === undefined) {
      const p = partsOf(ts, this.opts.zone);
      const day = isoDay(p);
      let byUser = this.days.get(day);
      if (!byUser) this.days.set(day, (byUser = new Map<string | null, GroupAcc>()));
      if (this.quarters.size >= 1 << 20) this.quarters.clear();
      this.quarters.set(k, (q = { k, day, parts: p, byUser }));
    }
    this.quarter = q;
    return q;
  }

  /**
   * Everything gathered so far, as plain data (for `postMessage`): one thread's share of a log,
   * which the main thread's report `absorb`s (parallel-scan.ts).
   */
  state(): ReportState {
    const groups: GroupState[] = [];
    for (const [key, g] of this.groups) {
      const ips: IpStat[] = [];
      for (const s of g.v4Stats) ips.push(plainStat(s));
      for (const s of g.ips.values()) ips.push(plainStat(s));
      groups.push({ key, day: g.day, user: g.user, dayParts: g.dayParts, ips });
    }
    return { successes: this.successes, matched: this.matched, seq: this.seq, groups };
  }

  /**
   * Adds another report's state: counts summed, first/last widened, services and methods joined —
   * the result (what `result` lists) is the one a single report fed every event would give.
   * The state's logins come after this report's in the input (the next share of a file, or a
   * later file): its login numbers are shifted past ours, so that of two logins in the same
   * second the later line still wins.
   */
  absorb(st: ReportState): void {
    this.successes += st.successes;
    this.matched += st.matched;
    const shift = this.seq;
    this.seq += st.seq;
    for (const gs of st.groups) {
      let g = this.groups.get(gs.key);
      if (!g) {
        const user = gs.user === null ? null : intern(gs.user);
        g = { day: gs.day, user, dayParts: gs.dayParts, v4: [], v4Stats: [], ips: new Map() };
        this.groups.set(gs.key, g);
        let byUser = this.noDate;
        if (gs.day !== null) {
          const d = this.days.get(gs.day);
          if (d) byUser = d;
          else this.days.set(gs.day, (byUser = new Map<string | null, GroupAcc>()));
        }
        byUser.set(user, g);
      }
      for (const o of gs.ips) {
        const s = this.statOf(g, o.ip, o.first);
        s.count += o.count;
        if (o.first < s.first) s.first = o.first;
        const seq = o.lastSeq + shift;
        // A new address's stats hold lastSeq -1: any login number wins over it.
        if (o.last > s.last || (o.last === s.last && seq > s.lastSeq)) {
          s.last = o.last;
          s.lastSeq = seq;
        }
        s.serviceBits |= o.serviceBits;
        for (const m of o.methods) this.addMethod(s, m);
      }
    }
  }

  /** A group's stats of an address, new (count 0, first = last = ts) when it had none. */
  private statOf(g: GroupAcc, ipText: string, ts: number): IpAcc {
    const key = ipKey(ipText);
    let s: IpAcc | undefined;
    if (typeof key === 'number') {
      const v4 = g.v4;
      const n4 = v4.length;
      for (let i = 0; i < n4; i++) {
        if (v4[i] === key) {
          s = g.v4Stats[i];
          break;
        }
      }
      if (s === undefined && n4 >= FEW_IPS) s = g.ips.get(key);
    } else s = g.ips.get(key);
    if (s === undefined) {
      const ip = intern(ipText);
      s = { ip, count: 0, first: ts, last: ts, lastSeq: -1, serviceBits: 0, methods: [], methodBits: 0 };
      if (typeof key === 'number' && g.v4.length < FEW_IPS) {
        g.v4.push(key);
        g.v4Stats.push(s);
      } else g.ips.set(key, s);
    }
    return s;
  }

  private addMethod(s: IpAcc, m: string): void {
    const b = methodBit(m);
    if (b === 0 ? !s.methods.includes(m) : (s.methodBits & b) === 0) {
      s.methodBits |= b;
      s.methods.push(internFew(m));
    }
  }

  /** Groups that pass the limit, in day then account order. */
  result(geoOf: (ip: string) => GeoInfo | null): ReportGroup[] {
    const limit = this.opts.limit;
    const why = new Map<string, string | null>();
    const whyOf = (ip: string): string | null => {
      let w = why.get(ip);
      if (w === undefined) {
        w = this.whitelist ? this.whitelist.whyIp(ip, this.whitelist.needsGeo ? geoOf(ip) : null) : null;
        why.set(ip, w);
      }
      return w;
    };
    const whitelisted = (s: IpAcc): boolean => whyOf(s.ip) !== null;
    const out: ReportGroup[] = [];
    const keys = [...this.groups.keys()].sort();
    for (const k of keys) {
      const g = this.groups.get(k)!;
      const shown = listedByLimit(limit, g.ips.size === 0 ? g.v4Stats : [...g.v4Stats, ...g.ips.values()], whitelisted);
      if (shown === null) continue;
      const listed: ReportEntry[] = shown.map((s) => ({
        ip: s.ip,
        count: s.count,
        first: s.first,
        last: s.last,
        lastSeq: s.lastSeq,
        serviceBits: s.serviceBits,
        methods: s.methods,
        geo: null,
        whitelisted: whyOf(s.ip),
      }));
      listed.sort((a, b) => b.count - a.count || a.first - b.first || (a.ip < b.ip ? -1 : 1));
      // The latest login; of logins in the same second, the later line (auth_checker.pl's Last).
      let last = listed[0]!;
      for (const e of listed) if (e.last > last.last || (e.last === last.last && e.lastSeq > last.lastSeq)) last = e;
      for (const e of listed) e.geo = geoOf(e.ip);
      out.push({ day: g.day, dayLabel: g.dayParts ? dayLabel(g.dayParts) : null, user: g.user, entries: listed, last });
    }
    return out;
  }
}

/** The seed's layout: a header per group, then `count  address  geo` per address. */
export function renderText(groups: readonly ReportGroup[], geoLevel: number, zone: Zone, nouser: boolean): string {
  if (groups.length === 0) return '';
  const years = new Set(groups.map((g) => partsOf(g.last.last, zone).y));
  const withYear = years.size > 1;
  const lines: string[] = [];
  let countWidth = 5;
  let ipWidth = 15;
  for (const g of groups) {
    for (const e of g.entries) {
      countWidth = Math.max(countWidth, String(e.count).length);
      ipWidth = Math.max(ipWidth, e.ip.length);
    }
  }
  for (const g of groups) {
    const lp = partsOf(g.last.last, zone);
    const when = g.day === null ? `${dayLabel(lp)}${withYear ? ` ${lp.y}` : ''} ${timeLabel(lp)}` : timeLabel(lp);
    const who = nouser ? 'all accounts' : `account ${g.user === null ? '(none)' : escapeControl(g.user)}`;
    const n = g.entries.length;
    const head = `${who}: ${n} IP${n === 1 ? '' : 's'} (Last: ${g.last.ip} @ ${when})`;
    const day = g.dayLabel === null ? '' : `${g.dayLabel}${withYear ? ` ${g.day!.slice(0, 4)}` : ''} -> `;
    if (lines.length > 0) lines.push('');
    lines.push(day + head);
    for (const e of g.entries) {
      let geo = geoLevel > 0 && e.geo ? geoText(e.geo, geoLevel) : '';
      if (e.whitelisted) geo += `${geo ? '  ' : ''}[whitelisted: ${e.whitelisted}]`;
      lines.push(`${String(e.count).padStart(countWidth)}  ${geo ? e.ip.padEnd(ipWidth) : e.ip}${geo ? `  ${geo}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** One JSON object per group (JSON lines). */
export function groupJson(g: ReportGroup, zone: Zone, geoLevel: number): Record<string, unknown> {
  return {
    type: 'account',
    day: g.day,
    user: g.user,
    ips: g.entries.length,
    last: { ip: g.last.ip, ts: g.last.last, time: isoTime(g.last.last, zone) },
    entries: g.entries.map((e) => ({
      ip: e.ip,
      count: e.count,
      first_ts: e.first,
      last_ts: e.last,
      first_time: isoTime(e.first, zone),
      last_time: isoTime(e.last, zone),
      services: servicesOf(e.serviceBits),
      methods: [...e.methods].sort(),
      whitelisted: e.whitelisted,
      geo: geoLevel > 0 && e.geo ? geoInfoJson(e.geo) : null,
    })),
  };
}
