import { isoDay, partsOf, type Zone } from '../accounts/clock.js';
import { listedByLimit } from '../accounts/limit-rule.js';
import type { Whitelist } from '../accounts/whitelist.js';
import type { GeoInfo } from '../geoip/geoip.js';
import { strikeKey } from '../strikes/address-key.js';
import { reachesHitcount } from '../strikes/recent-window.js';
import type {
  AddressStat,
  AttackedRow,
  BlockJson,
  CompromisedAddress,
  CompromisedRow,
  Counts3,
  DistributedRow,
  SuspectAddress,
  SuspectRow,
  VerdictName,
  VerdictRow,
} from './report-doc.js';
import { CHUNK_BITS, CHUNK_MASK, groupRows, Slabs, StringTable } from './columns.js';
import type { Attempt, BlockInfo, Seen } from './types.js';

/**
 * The verdicts, most urgent first, one function each:
 *
 * COMPROMISED  an address with failed attempts (wire or log) that then logged in: one row per
 *              account when the login's username is known, per address otherwise;
 * SUSPECT      the accounts rules on every login (wire or log, each once): an account used from
 *              ≥ limit non-whitelisted addresses in a day, or — when the config whitelists networks,
 *              countries, ASNs or ISPs — a login from an address none of them covers;
 * DISTRIBUTED  one username failing from ≥ distributedMin addresses within distributedWindow
 *              seconds, each of them under the strike threshold (never blocked, never hitcount
 *              failures within the strike window): what per-address counting misses;
 * ATTACKED     addresses with failures and no login, with the blocks the rules applied.
 */

export const VERDICT_ORDER: readonly VerdictName[] = ['COMPROMISED', 'SUSPECT', 'DISTRIBUTED', 'ATTACKED'];

export interface RuleOptions {
  /** Failed attempts before a login that make it COMPROMISED. */
  minFailures: number;
  hitcount: number;
  seconds: number;
  tempfailStrikes: boolean;
  distributedMin: number;
  distributedWindow: number;
  /** The accounts limit rule (src/accounts/limit-rule.ts). */
  limit: number;
  /** Zone of the days the SUSPECT rule counts in. */
  zone: Zone;
  whitelist: Whitelist | null;
  geoOf: (ip: string) => GeoInfo | null;
}

const zero = (): Counts3 => ({ all: 0, wire_only: 0, log_only: 0, both: 0 });

export function bump(c: Counts3, seen: Seen): void {
  c.all++;
  if (seen === 'both') c.both++;
  else if (seen === 'wire') c.wire_only++;
  else c.log_only++;
}

/** Attempts of the same kind seen several ways, summarised: both when any was seen both ways or both kinds occur. */
function seenOf(list: readonly Seen[]): Seen {
  if (list.includes('both') || (list.includes('wire') && list.includes('log'))) return 'both';
  return list.includes('wire') ? 'wire' : 'log';
}

/** Whether an attempt strikes: a failure, or a 454 with --tempfail-strikes. */
export function failTest(o: Pick<RuleOptions, 'tempfailStrikes'>): (a: Attempt) => boolean {
  return (a) => a.outcome === 'failure' || (o.tempfailStrikes && a.outcome === 'tempfail');
}

/** Why an address is whitelisted (null: it is not), each address asked once. */
export type WhyOf = (ip: string) => string | null;

export function whitelistReasons(o: Pick<RuleOptions, 'whitelist' | 'geoOf'>): WhyOf {
  const cache = new Map<string, string | null>();
  return (ip) => {
    let w = cache.get(ip);
    if (w === undefined) {
      w = o.whitelist && !ip.includes('/') ? o.whitelist.whyIp(ip, o.whitelist.needsGeo ? o.geoOf(ip) : null) : null;
      cache.set(ip, w);
    }
    return w;
  };
}

/** The attempts per address, in input (time) order. */
export function attemptsByIp(attempts: readonly Attempt[]): Map<string, Attempt[]> {
  const byIp = new Map<string, Attempt[]>();
  for (const a of attempts) {
    const l = byIp.get(a.ip);
    if (l) l.push(a);
    else byIp.set(a.ip, [a]);
  }
  return byIp;
}

/** The blocks that applied to an address, oldest first (a block on an IPv6 prefix applies to every address in it). */
export function blockLookup(blocks: readonly BlockInfo[]): (ip: string) => BlockJson[] {
  const blockIndex = new Map<string, BlockInfo[]>();
  const prefixBits = new Set<number>();
  for (const b of blocks) {
    for (const k of new Set([b.key, b.client])) {
      const l = blockIndex.get(k);
      if (l) l.push(b);
      else blockIndex.set(k, [b]);
    }
    const slash = b.key.indexOf('/');
    if (slash > 0) prefixBits.add(Number(b.key.slice(slash + 1)));
  }
  return (ip) => {
    const found = new Set<BlockInfo>(blockIndex.get(ip) ?? []);
    if (ip.includes(':') && !ip.includes('/')) for (const bits of prefixBits) for (const b of blockIndex.get(strikeKey(ip, bits)) ?? []) found.add(b);
    return [...found]
      .map((b) => ({ key: b.key, rule: b.rule, from: b.from, until: b.until, rejects: b.rejects, level: b.level, source: b.source }))
      .sort((a, b) => a.from - b.from);
  };
}

/** Per address: its attempts counted, its blocks, whether its failures reach the strike threshold (`verdicts` filled later). */
export function addressStats(
  byIp: ReadonlyMap<string, readonly Attempt[]>,
  blocksOf: (ip: string) => BlockJson[],
  whyOf: WhyOf,
  o: RuleOptions,
): Map<string, AddressStat> {
  const isFail = failTest(o);
  const addresses = new Map<string, AddressStat>();
  for (const [ip, list] of byIp) {
    const st: AddressStat = {
      ip,
      failures: zero(),
      successes: zero(),
      tempfails: zero(),
      inside_tls: 0,
      users: [],
      first_ts: list[0]!.ts,
      last_ts: list[list.length - 1]!.ts,
      blocks: blocksOf(ip),
      would_block: false,
      verdicts: [],
      whitelisted: whyOf(ip),
    };
    const users = new Set<string>();
    const failTimes: number[] = [];
    for (const a of list) {
      if (a.outcome === 'failure') bump(st.failures, a.seen);
      else if (a.outcome === 'success') bump(st.successes, a.seen);
      else bump(st.tempfails, a.seen);
      if (a.tls) st.inside_tls++;
      if (a.user !== null) users.add(a.user);
      if (isFail(a)) failTimes.push(a.ts);
    }
    st.users = [...users].sort();
    st.would_block = reachesHitcount(failTimes, o.hitcount, o.seconds);
    addresses.set(ip, st);
  }
  return addresses;
}

/** COMPROMISED: failures from an address, then a login from it; per account (username known) or per address. */
export function compromisedRows(byIp: ReadonlyMap<string, readonly Attempt[]>, addresses: ReadonlyMap<string, AddressStat>, o: RuleOptions): CompromisedRow[] {
  const per: CompromisedPart[][] = [];
  for (const [ip, list] of byIp) per.push(compromisedOf(ip, list, addresses.get(ip)!.blocks.length > 0, o));
  return compromisedAssemble(per);
}

/** One address's part of COMPROMISED: per account (or the address) its first login after failures. */
export interface CompromisedPart {
  key: string;
  user: string | null;
  ip: string;
  ev: CompromisedAddress;
}

/** COMPROMISED for one address's attempts (in time order); `blocked`: a block applied to it. */
export function compromisedOf(ip: string, list: readonly Attempt[], blocked: boolean, o: RuleOptions): CompromisedPart[] {
  const isFail = failTest(o);
  const parts: CompromisedPart[] = [];
  {
    let fails = 0;
    const seen = zero();
    let firstFail = NaN;
    const tried = new Set<string>();
    const byUser = new Map<string | null, number>();
    const done = new Map<string, CompromisedAddress>();
    for (const a of list) {
      if (isFail(a)) {
        fails++;
        bump(seen, a.seen);
        if (Number.isNaN(firstFail)) firstFail = a.ts;
        if (a.user !== null) tried.add(a.user);
        byUser.set(a.user, (byUser.get(a.user) ?? 0) + 1);
        continue;
      }
      if (a.outcome !== 'success' || fails < o.minFailures) continue;
      const key = a.user !== null ? `u\u0000${a.user}` : `a\u0000${ip}`;
      const prev = done.get(key);
      if (prev) {
        prev.successes++;
        continue;
      }
      const ev: CompromisedAddress = {
        ip,
        failures_before: fails,
        failures_before_wire_only: seen.wire_only,
        failures_before_log_only: seen.log_only,
        failures_before_both: seen.both,
        failures_same_user: a.user === null ? fails : (byUser.get(a.user) ?? 0) + (byUser.get(null) ?? 0),
        users_tried: [...tried].sort(),
        first_failure_ts: firstFail,
        success_ts: a.ts,
        success_seen: a.seen,
        success_inside_tls: a.tls,
        successes: 1,
        blocked,
      };
      done.set(key, ev);
      parts.push({ key, user: a.user, ip, ev });
    }
  }
  return parts;
}

/** The COMPROMISED rows from the addresses' parts, the addresses in the order given. */
export function compromisedAssemble(per: readonly (readonly CompromisedPart[])[]): CompromisedRow[] {
  const comp = new Map<string, CompromisedRow>();
  for (const parts of per) {
    for (const { key, user, ip, ev } of parts) {
      let row = comp.get(key);
      if (!row) {
        row = {
          verdict: 'COMPROMISED',
          subject: user !== null ? 'account' : 'address',
          account: user,
          address: user !== null ? null : ip,
          failures: 0,
          successes: 0,
          addresses: [],
          first_ts: ev.first_failure_ts,
          last_ts: ev.success_ts,
        };
        comp.set(key, row);
      }
      row.addresses.push(ev);
      row.first_ts = Math.min(row.first_ts, ev.first_failure_ts);
      row.last_ts = Math.max(row.last_ts, ev.success_ts);
    }
  }
  const compRows = [...comp.values()];
  for (const r of compRows) {
    r.failures = r.addresses.reduce((n, a) => n + a.failures_before, 0);
    r.successes = r.addresses.reduce((n, a) => n + a.successes, 0);
  }
  for (const r of compRows) r.addresses.sort((a, b) => b.failures_before - a.failures_before || a.success_ts - b.success_ts);
  compRows.sort((a, b) => b.addresses[0]!.failures_before - a.addresses[0]!.failures_before || a.last_ts - b.last_ts);
  return compRows;
}

/** SUSPECT: the accounts rules on every login, per day (in `o.zone`) and account; in day, then account order. */
export function suspectRows(attempts: readonly Attempt[], whyOf: WhyOf, o: RuleOptions): SuspectRow[] {
  const g = new SuspectGroups(o);
  for (const a of attempts) g.add(a);
  return g.rows(whyOf);
}

/** SUSPECT's logins per (day, account, address): what the rule needs, one entry per key, not per login. */
export class SuspectGroups {
  private readonly groups = new Map<string, SuspectAcc>();
  constructor(private readonly o: RuleOptions) {}

  /** Attempts of one address in time order (any attempt; logins are taken). */
  add(a: Attempt): void {
    const o = this.o;
    if (a.outcome !== 'success' || o.whitelist?.hasUser(a.user)) return;
    const day = isoDay(partsOf(a.ts, o.zone));
    const k = `${day}\u0000${a.user ?? '\u0001'}`;
    let g = this.groups.get(k);
    if (!g) this.groups.set(k, (g = { day, user: a.user, ips: new Map() }));
    let s = g.ips.get(a.ip);
    if (!s) g.ips.set(a.ip, (s = { n: 0, first: a.ts, last: a.ts, seen: [], tls: 0 }));
    s.n++;
    s.last = a.ts;
    if (!s.seen.includes(a.seen)) s.seen.push(a.seen);
    if (a.tls) s.tls++;
  }

  rows(whyOf: WhyOf): SuspectRow[] {
    return suspectFrom(this.groups, whyOf, this.o);
  }
}

interface SuspectAcc {
  day: string;
  user: string | null;
  ips: Map<string, { n: number; first: number; last: number; seen: Seen[]; tls: number }>;
}

function suspectFrom(groups: ReadonlyMap<string, SuspectAcc>, whyOf: WhyOf, o: RuleOptions): SuspectRow[] {
  const wl = o.whitelist;
  const unlistedRule = wl !== null && (wl.config.ips.length > 0 || wl.config.countries.length > 0 || wl.config.asns.length > 0 || wl.config.isps.length > 0);
  const whitelisted = (ip: string): boolean => whyOf(ip) !== null;
  const rows: SuspectRow[] = [];
  for (const k of [...groups.keys()].sort()) {
    const g = groups.get(k)!;
    const rules: ('addresses' | 'unlisted')[] = [];
    const ips = [...g.ips.keys()];
    // Logins with no username are no account's: the limit rule counts accounts only.
    if (g.user !== null && listedByLimit(o.limit, ips, whitelisted) !== null) rules.push('addresses');
    if (unlistedRule && ips.some((ip) => !whitelisted(ip))) rules.push('unlisted');
    if (rules.length === 0) continue;
    // The addresses the limit rule shows, with no count to reach (the unlisted rule alone may list the group).
    const listed = listedByLimit(o.limit < 0 ? -1 : 0, ips, whitelisted) ?? [];
    const addrs: SuspectAddress[] = listed.map((ip) => {
      const s = g.ips.get(ip)!;
      return { ip, successes: s.n, seen: seenOf(s.seen), inside_tls: s.tls, first_ts: s.first, last_ts: s.last, whitelisted: whyOf(ip) };
    });
    addrs.sort((a, b) => b.successes - a.successes || a.first_ts - b.first_ts || (a.ip < b.ip ? -1 : 1));
    // Loops, not Math.min(...list): a spread of a large array overflows the call stack.
    let firstTs = Infinity;
    let lastTs = -Infinity;
    for (const a of addrs) {
      if (a.first_ts < firstTs) firstTs = a.first_ts;
      if (a.last_ts > lastTs) lastTs = a.last_ts;
    }
    rows.push({
      verdict: 'SUSPECT',
      subject: 'account',
      account: g.user,
      day: g.day,
      rules,
      successes: addrs.reduce((n, a) => n + a.successes, 0),
      addresses: addrs,
      first_ts: firstTs,
      last_ts: lastTs,
    });
  }
  return rows;
}

/**
 * DISTRIBUTED: one account failing from many addresses each under the strike threshold, most
 * addresses first; with the accounts each address took part in (for ATTACKED's `distributed`).
 */
export function distributedRows(
  attempts: readonly Attempt[],
  addresses: ReadonlyMap<string, AddressStat>,
  o: RuleOptions,
): { rows: DistributedRow[]; accountsOf: Map<string, string[]> } {
  const isFail = failTest(o);
  const overThreshold = (ip: string): boolean => {
    const s = addresses.get(ip)!;
    return s.would_block || s.blocks.length > 0;
  };
  const fails = new Map<string, FailColumns>();
  const overOf = new Map<string, Set<string>>();
  for (const a of attempts) {
    if (!isFail(a) || a.user === null) continue;
    let f = fails.get(a.user);
    if (!f) {
      const over = new Set<string>();
      overOf.set(a.user, over);
      fails.set(a.user, (f = { ts: [], ip: [], over: () => over }));
    }
    if (overThreshold(a.ip)) overOf.get(a.user)!.add(a.ip);
    else {
      f.ts.push(a.ts);
      f.ip.push(a.ip);
    }
  }
  return distributedFrom(fails, o);
}

/** One account's failures from addresses under the threshold, in time order, and the addresses over it. */
interface FailColumns {
  ts: number[];
  ip: string[];
  /** The addresses over it (any order, repeats allowed). */
  over: () => Iterable<string>;
}

/**
 * The DISTRIBUTED rule itself, over each account's failures (distributedRows from attempts, the
 * VerdictAccumulator from what it kept): the window of `distributedWindow` seconds that reached the
 * most distinct under-threshold addresses, with every failure for the account inside it.
 */
function distributedFrom(fails: ReadonlyMap<string, FailColumns>, o: RuleOptions): { rows: DistributedRow[]; accountsOf: Map<string, string[]> } {
  const accountsOf = new Map<string, string[]>();
  const rows: DistributedRow[] = [];
  for (const [user, f] of fails) distributedOf(user, f, o, rows, accountsOf);
  return { rows: sortDistributed(rows), accountsOf };
}

function sortDistributed(rows: DistributedRow[]): DistributedRow[] {
  return rows.sort((a, b) => b.addresses.length - a.addresses.length || (a.account < b.account ? -1 : 1));
}

/** The rule for one account: its row (if any) to `rows`, and the account to its addresses' lists in `accountsOf`. */
function distributedOf(user: string, { ts, ip: ips, over }: FailColumns, o: RuleOptions, rows: DistributedRow[], accountsOf: Map<string, string[]>): void {
  const n = ts.length;
  if (n === 0 || new Set(ips).size < o.distributedMin) return;
  // Sliding window: most distinct under-threshold addresses within distributedWindow seconds.
  const inWin = new Map<string, number>();
  let best = 0;
  let bestFrom = 0;
  let bestTo = 0;
  let i = 0;
  for (let j = 0; j < n; j++) {
    inWin.set(ips[j]!, (inWin.get(ips[j]!) ?? 0) + 1);
    while (ts[j]! - ts[i]! > o.distributedWindow) {
      const ip = ips[i]!;
      const c = inWin.get(ip)! - 1;
      if (c === 0) inWin.delete(ip);
      else inWin.set(ip, c);
      i++;
    }
    if (inWin.size > best) {
      best = inWin.size;
      bestFrom = i;
      bestTo = j;
    }
  }
  if (best < o.distributedMin) return;
  // The window that reached the most addresses, with every failure for the account inside it.
  let end = bestTo;
  while (end + 1 < n && ts[end + 1]! - ts[bestFrom]! <= o.distributedWindow) end++;
  const count = new Map<string, number>();
  for (let k = bestFrom; k <= end; k++) count.set(ips[k]!, (count.get(ips[k]!) ?? 0) + 1);
  const addrs = [...count.entries()].map(([ip, failures]) => ({ ip, failures })).sort((a, b) => (a.ip < b.ip ? -1 : 1));
  for (const a of addrs) {
    const l = accountsOf.get(a.ip) ?? [];
    l.push(user);
    accountsOf.set(a.ip, l);
  }
  rows.push({
    verdict: 'DISTRIBUTED',
    subject: 'account',
    account: user,
    failures: end - bestFrom + 1,
    addresses: addrs,
    over_threshold: [...new Set(over())].sort(),
    first_ts: ts[bestFrom]!,
    last_ts: ts[end]!,
  });
}

/** ATTACKED: addresses with failures (or 454s) and no login, most attempts first; `distributedOf`: the DISTRIBUTED accounts per address. */
export function attackedRows(addresses: ReadonlyMap<string, AddressStat>, distributedOf: ReadonlyMap<string, readonly string[]>): AttackedRow[] {
  const rows: AttackedRow[] = [];
  for (const st of addresses.values()) {
    if (st.successes.all > 0 || st.failures.all + st.tempfails.all === 0) continue;
    rows.push({
      verdict: 'ATTACKED',
      subject: 'address',
      address: st.ip,
      failures: { ...st.failures },
      tempfails: st.tempfails.all,
      users: st.users,
      blocks: st.blocks,
      would_block: st.would_block,
      rejects: st.blocks.reduce((s, b) => s + b.rejects, 0),
      distributed: [...(distributedOf.get(st.ip) ?? [])].sort(),
      first_ts: st.first_ts,
      last_ts: st.last_ts,
    });
  }
  rows.sort((a, b) => b.failures.all + b.tempfails - (a.failures.all + a.tempfails) || (a.address < b.address ? -1 : 1));
  return rows;
}

/** Fills each address's `verdicts`: the verdicts of the rows it takes part in, most urgent first. */
function markVerdicts(rows: readonly VerdictRow[], addresses: ReadonlyMap<string, AddressStat>): void {
  for (const r of rows) {
    const ips = r.verdict === 'ATTACKED' ? [r.address] : r.addresses.map((a) => a.ip);
    for (const ip of ips) {
      const st = addresses.get(ip);
      if (st && !st.verdicts.includes(r.verdict)) st.verdicts.push(r.verdict);
    }
  }
  // A copy of the exact length: an array grown by push keeps room for 16 more (~60,000 addresses).
  for (const st of addresses.values()) st.verdicts = st.verdicts.sort((a, b) => VERDICT_ORDER.indexOf(a) - VERDICT_ORDER.indexOf(b)).slice();
}

export interface Verdicts {
  rows: VerdictRow[];
  addresses: Map<string, AddressStat>;
}

/** Every verdict row, in VERDICT_ORDER, and the per-address statistics they refer to. */
export function computeVerdicts(attempts: readonly Attempt[], blocks: readonly BlockInfo[], o: RuleOptions): Verdicts {
  const seq = new Map<Attempt, number>();
  attempts.forEach((a, i) => seq.set(a, i));
  const acc = new VerdictAccumulator(blocks, o, true);
  for (const [ip, list] of attemptsByIp(attempts)) acc.addAddress(ip, list, (a) => seq.get(a)!);
  return acc.finish();
}

/**
 * DISTRIBUTED's input: the failures of addresses under the threshold (account, time, address: one
 * row each, in columns — there may be millions), and per account the addresses over it.
 */
class UserFails {
  size = 0;
  private user: Int32Array[] = [];
  private ip: Int32Array[] = [];
  private ts: Float64Array[] = [];
  /** Input position (computeVerdicts); not kept when streamed (ordered by time, then address). */
  readonly seq: number[] = [];
  readonly users = new StringTable();
  readonly ips = new StringTable();
  /** Failures from addresses over the threshold: (account id, address id) — the addresses are listed only in DISTRIBUTED rows. */
  overSize = 0;
  private overUser: Int32Array[] = [];
  private overIp: Int32Array[] = [];
  private slabs = new Slabs();

  /** The account's id (its failures are kept in the order their accounts were first met). */
  userId(user: string): number {
    return this.users.id(user);
  }

  add(u: number, ts: number, ip: string, seq: number | null): void {
    const i = this.size++;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.ts.length) {
      this.user.push(this.slabs.i32());
      this.ip.push(this.slabs.i32());
      this.ts.push(this.slabs.f64());
    }
    this.user[c]![j] = u;
    this.ip[c]![j] = this.ips.id(ip);
    this.ts[c]![j] = ts;
    if (seq !== null) this.seq.push(seq);
  }

  /** A failure of account `u` from `ip`, an address over the threshold (the same pair may come again). */
  addOver(u: number, ip: string): void {
    const i = this.overSize++;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.overUser.length) {
      this.overUser.push(this.slabs.i32());
      this.overIp.push(this.slabs.i32());
    }
    this.overUser[c]![j] = u;
    this.overIp[c]![j] = this.ips.id(ip);
  }

  /** Drops the rows (the verdicts are made). */
  release(): void {
    this.user = [];
    this.ip = [];
    this.ts = [];
    this.overUser = [];
    this.overIp = [];
    this.slabs = new Slabs();
    this.size = 0;
    this.overSize = 0;
  }

  overUserAt(i: number): number {
    return this.overUser[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  overIpAt(i: number): string {
    return this.ips.list[this.overIp[i >>> CHUNK_BITS]![i & CHUNK_MASK]!]!;
  }

  userAt(i: number): number {
    return this.user[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  tsAt(i: number): number {
    return this.ts[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  ipAt(i: number): string {
    return this.ips.list[this.ip[i >>> CHUNK_BITS]![i & CHUNK_MASK]!]!;
  }
}

/**
 * The verdicts fed address by address (each address's attempts at once, in time order): what is
 * kept is per address (its statistics, its COMPROMISED part), per (day, account, address) of
 * logins (SUSPECT), and per account the failures of addresses under the strike threshold, as two
 * numbers each (DISTRIBUTED) — not the attempts. `finish()` gives what computeVerdicts gives for
 * all the attempts at once.
 */
export class VerdictAccumulator {
  private readonly blocksOf: (ip: string) => BlockJson[];
  private readonly whyOf: WhyOf;
  private readonly isFail: (a: Attempt) => boolean;
  readonly addresses = new Map<string, AddressStat>();
  private readonly comp: { ip: string; first: number; order: number; parts: CompromisedPart[] }[] = [];
  private readonly suspect: SuspectGroups;
  private readonly fails = new UserFails();
  private fed = 0;

  /** `inputOrder`: addresses come in the order computeVerdicts groups them (else: any order, sorted here as that grouping would). */
  constructor(
    blocks: readonly BlockInfo[],
    private readonly o: RuleOptions,
    private readonly inputOrder = false,
  ) {
    this.blocksOf = blockLookup(blocks);
    this.whyOf = whitelistReasons(o);
    this.isFail = failTest(o);
    this.suspect = new SuspectGroups(o);
  }

  addAddress(ip: string, list: readonly Attempt[], seqOf?: (a: Attempt) => number): AddressStat {
    const one = new Map<string, readonly Attempt[]>([[ip, list]]);
    const st = addressStats(one, this.blocksOf, this.whyOf, this.o).get(ip)!;
    this.addresses.set(ip, st);
    const parts = compromisedOf(ip, list, st.blocks.length > 0, this.o);
    if (parts.length > 0) this.comp.push({ ip, first: list[0]!.ts, order: this.fed, parts });
    this.fed++;
    const over = st.would_block || st.blocks.length > 0;
    const f = this.fails;
    for (const a of list) {
      this.suspect.add(a);
      if (!this.isFail(a) || a.user === null) continue;
      const u = f.userId(a.user);
      if (over) f.addOver(u, ip);
      else f.add(u, a.ts, ip, this.inputOrder ? (seqOf ? seqOf(a) : NaN) : null);
    }
    return st;
  }

  finish(): Verdicts {
    const addresses = this.addresses;
    // COMPROMISED in the order of each address's first attempt (the order of a time-sorted list grouped by address).
    if (!this.inputOrder) this.comp.sort((a, b) => a.first - b.first || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    const compRows = compromisedAssemble(this.comp.map((c) => c.parts));
    const distributed = this.distributed();
    const rows: VerdictRow[] = [];
    for (const list of [compRows, this.suspect.rows(this.whyOf), distributed.rows, attackedRows(addresses, distributed.accountsOf)] as VerdictRow[][])
      for (const r of list) rows.push(r);
    markVerdicts(rows, addresses);
    this.fails.release();
    return { rows, addresses };
  }

  /** distributedRows over the kept failures: each account's put in time order (or the input order), then the one rule. */
  private distributed(): { rows: DistributedRow[]; accountsOf: Map<string, string[]> } {
    const f = this.fails;
    const { start, order } = groupRows(f.size, f.users.list.length, (i) => f.userAt(i));
    const over = groupRows(f.overSize, f.users.list.length, (i) => f.overUserAt(i));
    const accountsOf = new Map<string, string[]>();
    const rows: DistributedRow[] = [];
    for (let u = 0; u < f.users.list.length; u++) {
      const idx: number[] = [];
      for (let p = start[u]!; p < start[u + 1]!; p++) idx.push(order[p]!);
      // Rows of one account are in the order they were added: `a - b` keeps that order for ties.
      if (this.inputOrder) idx.sort((a, b) => f.seq[a]! - f.seq[b]!);
      else idx.sort((a, b) => f.tsAt(a) - f.tsAt(b) || (f.ipAt(a) < f.ipAt(b) ? -1 : f.ipAt(a) > f.ipAt(b) ? 1 : 0) || a - b);
      const overIps = function* (): Generator<string> {
        for (let p = over.start[u]!; p < over.start[u + 1]!; p++) yield f.overIpAt(over.order[p]!);
      };
      distributedOf(f.users.list[u]!, { ts: idx.map((i) => f.tsAt(i)), ip: idx.map((i) => f.ipAt(i)), over: overIps }, this.o, rows, accountsOf);
    }
    return { rows: sortDistributed(rows), accountsOf };
  }
}
