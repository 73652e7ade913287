import { strikeKey } from '../strikes/address-key.js';
import { reachesHitcount } from '../strikes/recent-window.js';
import type { AddressStat, BlockJson, DistributedRow, VerdictName, VerdictRow } from './report-doc.js';
import { groupRows } from './columns.js';
import { attackedRows } from './rules-attacked.js';
import { compromisedAssemble, compromisedOf, type CompromisedPart } from './rules-compromised.js';
import { distributedOf, sortDistributed } from './rules-distributed.js';
import { bump, failTest, whitelistReasons, zero, type RuleOptions, type WhyOf } from './rules-options.js';
import { SuspectGroups } from './rules-suspect.js';
import { UserFails } from './rules-user-fails.js';
import type { Attempt, BlockInfo } from './types.js';

// Each verdict's rule is in its own module (rules-compromised.ts, rules-suspect.ts,
// rules-distributed.ts, rules-attacked.ts), their options and shared helpers in rules-options.ts;
// all exported from here too.
export { attackedRows } from './rules-attacked.js';
export { compromisedAssemble, compromisedOf, compromisedRows, type CompromisedPart } from './rules-compromised.js';
export { distributedRows } from './rules-distributed.js';
export { bump, failTest, whitelistReasons, type RuleOptions, type WhyOf } from './rules-options.js';
export { suspectRows, SuspectGroups } from './rules-suspect.js';

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
