// COMPROMISED, one verdict of rules.ts: failures from an address, then a login from it.
import type { AddressStat, CompromisedAddress, CompromisedRow } from './report-doc.js';
import { bump, failTest, zero, type RuleOptions } from './rules-options.js';
import type { Attempt } from './types.js';

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
