// DISTRIBUTED, one verdict of rules.ts: one account failing from many addresses each under the threshold.
import type { AddressStat, DistributedRow } from './report-doc.js';
import { failTest, type RuleOptions } from './rules-options.js';
import type { Attempt } from './types.js';

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

export function sortDistributed(rows: DistributedRow[]): DistributedRow[] {
  return rows.sort((a, b) => b.addresses.length - a.addresses.length || (a.account < b.account ? -1 : 1));
}

/** The rule for one account: its row (if any) to `rows`, and the account to its addresses' lists in `accountsOf`. */
export function distributedOf(
  user: string,
  { ts, ip: ips, over }: FailColumns,
  o: RuleOptions,
  rows: DistributedRow[],
  accountsOf: Map<string, string[]>,
): void {
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
