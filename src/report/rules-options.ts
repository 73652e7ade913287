// The verdict rules' options and the small helpers every rule shares (rules.ts composes the rules).
import type { Zone } from '../accounts/clock.js';
import type { Whitelist } from '../accounts/whitelist.js';
import type { GeoInfo } from '../geoip/geoip.js';
import type { Counts3 } from './report-doc.js';
import type { Attempt, Seen } from './types.js';

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

export const zero = (): Counts3 => ({ all: 0, wire_only: 0, log_only: 0, both: 0 });

export function bump(c: Counts3, seen: Seen): void {
  c.all++;
  if (seen === 'both') c.both++;
  else if (seen === 'wire') c.wire_only++;
  else c.log_only++;
}

/** Attempts of the same kind seen several ways, summarised: both when any was seen both ways or both kinds occur. */
export function seenOf(list: readonly Seen[]): Seen {
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
