// SUSPECT, one verdict of rules.ts: the accounts rules on every login.
import { isoDay, partsOf } from '../accounts/clock.js';
import { listedByLimit } from '../accounts/limit-rule.js';
import type { SuspectAddress, SuspectRow } from './report-doc.js';
import { seenOf, type RuleOptions, type WhyOf } from './rules-options.js';
import type { Attempt, Seen } from './types.js';

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
