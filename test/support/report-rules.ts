/** Shared fixtures of the report's rule tests (report-units, report-verdict-rules, report-schema). */
import type { RuleOptions } from '../../src/report/rules.js';
import type { Attempt } from '../../src/report/types.js';

/** One attempt as the join makes it (port 587, no TLS, one log line unless wire-only). */
export function att(ts: number, ip: string, outcome: Attempt['outcome'], user: string | null, seen: Attempt['seen'] = 'both'): Attempt {
  return { ts, ip, user, outcome, seen, tls: false, mech: null, port: 587, services: [], logLines: seen === 'wire' ? 0 : 1, fromState: false };
}

/** The report's default rules (the original recipe's 3 in 1200 s), zone UTC, no whitelist, no GeoIP. */
export function rules(over: Partial<RuleOptions> = {}): RuleOptions {
  return {
    minFailures: 1,
    hitcount: 3,
    seconds: 1200,
    tempfailStrikes: false,
    distributedMin: 4,
    distributedWindow: 86400,
    limit: 2,
    zone: 0,
    whitelist: null,
    geoOf: () => null,
    ...over,
  };
}

/** A watch state file at `t` (one IPv4 address blocked after 3 failures, one IPv6 /64 with one). */
export function stateFileAt(t: number): Record<string, unknown> {
  return {
    version: 1,
    saved_at: t + 100,
    entries: [
      {
        key: '203.0.113.5',
        last_seen: t + 20,
        auth: [t + 0.5, t + 10.4, t + 20.2],
        conn: [],
        block: { key: '203.0.113.5', client: '203.0.113.5', rule: 'auth', from: t + 20.2, until: t + 1220.2, rejects: 2 },
      },
      { key: '2001:db8:1::/64', last_seen: t + 30, auth: [t + 30.3], conn: [], block: null },
    ],
  };
}
