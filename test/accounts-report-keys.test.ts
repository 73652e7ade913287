/**
 * AccountGroups's grouping against a naive reference (one Map per day+account+address, keyed by
 * text): many addresses per group (past the 16 kept in the IPv4 array), IPv6 next to IPv4,
 * addresses that look alike as numbers (`1.2.3.4` / `1.2.3.40`, `0.0.1.0` / `0.1.0.0`), more
 * than 30 method names (past the method bits), the null account, out-of-order timestamps
 * (quarter hours revisited), --nodate and --nouser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountGroups } from '../src/accounts/account-groups.js';
import { SERVICES, type AuthLogEvent, type Service } from '../src/accounts/types.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const IPS = [
  ...Array.from({ length: 40 }, (_, i) => `10.0.${i}.${(i * 7) % 256}`),
  '1.2.3.4',
  '1.2.3.40',
  '0.0.1.0',
  '0.1.0.0',
  '255.255.255.255',
  '0.0.0.0',
  '2001:db8::1',
  '2001:db8::2',
  '::1',
  'fe80::1',
];

function events(seed: number, n: number): AuthLogEvent[] {
  const r = rng(seed);
  const out: AuthLogEvent[] = [];
  const base = 1676246400;
  for (let i = 0; i < n; i++) {
    const users = r() < 0.05 ? null : `user${Math.floor(r() * 6)}`;
    const ipPool = users === 'user0' ? IPS.length : 5; // user0: many addresses per group
    out.push({
      ts: base + Math.floor(r() * 3 * 86400),
      tsGuessed: false,
      service: SERVICES[Math.floor(r() * SERVICES.length)] as Service,
      outcome: r() < 0.9 ? 'success' : 'failure',
      user: users,
      ip: IPS[Math.floor(r() * ipPool)]!,
      method: r() < 0.2 ? undefined : `m${Math.floor(r() * 40)}`,
      reason: undefined,
      line: i,
      file: 'x',
      proto: undefined,
      count: r() < 0.1 ? 3 : undefined,
    });
  }
  return out;
}

interface Ref {
  count: number;
  first: number;
  last: number;
  services: Set<string>;
  methods: Set<string>;
}

for (const [nodate, nouser] of [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const) {
  test(`grouping matches a naive reference (nodate ${nodate}, nouser ${nouser})`, () => {
    const evs = events(nodate ? 7 : 11 + (nouser ? 1 : 0), 20000);
    const rep = new AccountGroups({ limit: -1, nodate, nouser, zone: 0, users: [], userRegex: null }, null);
    const ref = new Map<string, Map<string, Ref>>();
    for (const e of evs) {
      // The report copies what it keeps: hand it fresh strings, as the reused event does.
      rep.add({ ...e, user: e.user === null ? null : `${e.user} `.trimEnd(), ip: `${e.ip} `.trimEnd() });
      if (e.outcome !== 'success') continue;
      const gk = `${nodate ? '' : new Date(e.ts * 1000).toISOString().slice(0, 10)}|${nouser ? 'null' : String(e.user)}`;
      let g = ref.get(gk);
      if (!g) ref.set(gk, (g = new Map<string, Ref>()));
      let s = g.get(e.ip);
      if (!s) g.set(e.ip, (s = { count: 0, first: e.ts, last: e.ts, services: new Set(), methods: new Set() }));
      s.count += e.count ?? 1;
      s.first = Math.min(s.first, e.ts);
      s.last = Math.max(s.last, e.ts);
      s.services.add(e.service);
      if (e.method !== undefined) s.methods.add(e.method);
    }
    const got = new Map<string, Map<string, Ref>>();
    for (const g of rep.result(() => null)) {
      const m = new Map<string, Ref>();
      for (const e of g.entries) {
        assert.ok(!m.has(e.ip), `${e.ip} listed twice`);
        assert.equal(new Set(e.methods).size, e.methods.length, 'methods distinct');
        m.set(e.ip, {
          count: e.count,
          first: e.first,
          last: e.last,
          services: new Set(SERVICES.filter((_, i) => (e.serviceBits & (1 << i)) !== 0)),
          methods: new Set(e.methods),
        });
      }
      got.set(`${g.day ?? ''}|${String(g.user)}`, m);
    }
    assert.deepEqual(got, ref);
    assert.ok(
      [...ref.values()].some((g) => g.size > 16),
      'a group past the IPv4 array',
    );
  });
}
