/**
 * Each verdict rule of src/report/rules.ts on its own (computeVerdicts composes them; its tests are
 * in report-units.test.ts): COMPROMISED, SUSPECT, DISTRIBUTED, ATTACKED, and the per-address
 * statistics they read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Whitelist, emptyWhitelist } from '../src/accounts/whitelist.js';
import {
  addressStats,
  attackedRows,
  attemptsByIp,
  blockLookup,
  compromisedRows,
  distributedRows,
  suspectRows,
  whitelistReasons,
  type RuleOptions,
} from '../src/report/rules.js';
import type { Attempt, BlockInfo } from '../src/report/types.js';
import { att, rules } from './support/report-rules.js';

const T = 1_790_000_000;

function stats(attempts: Attempt[], o: RuleOptions, blocks: BlockInfo[] = []) {
  const byIp = attemptsByIp(attempts);
  return { byIp, addresses: addressStats(byIp, blockLookup(blocks), whitelistReasons(o), o) };
}

test('addressStats: counts by outcome and by how seen; would_block at hitcount failures inside the window, exactly `seconds` included', () => {
  const o = rules();
  const a = [
    att(T, '192.0.2.1', 'failure', 'a', 'wire'),
    att(T + 600, '192.0.2.1', 'failure', 'b', 'log'),
    att(T + 1200, '192.0.2.1', 'failure', 'a'),
    att(T, '192.0.2.2', 'failure', null),
    att(T + 600, '192.0.2.2', 'failure', null),
    att(T + 1201, '192.0.2.2', 'failure', null),
  ];
  const { addresses } = stats(a, o);
  const s1 = addresses.get('192.0.2.1')!;
  assert.deepEqual([s1.failures, s1.users, s1.would_block], [{ all: 3, wire_only: 1, log_only: 1, both: 1 }, ['a', 'b'], true]);
  assert.equal(addresses.get('192.0.2.2')!.would_block, false);
});

test('compromisedRows: failures then a login, per account; the failures counted are those before the login', () => {
  const o = rules();
  const a = [
    att(T, '192.0.2.1', 'failure', 'alice'),
    att(T + 1, '192.0.2.1', 'success', 'alice'),
    att(T + 2, '192.0.2.1', 'failure', 'alice'),
    att(T, '192.0.2.2', 'success', 'bob'),
  ];
  const { byIp, addresses } = stats(a, o);
  const rows = compromisedRows(byIp, addresses, o);
  assert.deepEqual(
    rows.map((r) => [r.account, r.subject, r.failures, r.successes, r.addresses.map((x) => x.ip)]),
    [['alice', 'account', 1, 1, ['192.0.2.1']]],
  );
  assert.deepEqual(compromisedRows(byIp, addresses, rules({ minFailures: 2 })), []);
});

test('suspectRows: limit addresses in a day (days split in the zone), whitelisted addresses not counted, and the unlisted rule', () => {
  const a = [att(T, '192.0.2.1', 'success', 'dave'), att(T + 60, '198.51.100.1', 'success', 'dave'), att(T + 86400, '203.0.113.1', 'success', 'dave')]; // the next day: alone
  const o = rules();
  assert.deepEqual(
    suspectRows(a, whitelistReasons(o), o).map((r) => [r.account, r.day, r.rules, r.addresses.map((x) => x.ip)]),
    [['dave', '2026-09-21', ['addresses'], ['192.0.2.1', '198.51.100.1']]],
  );
  const wl = rules({ whitelist: new Whitelist({ ...emptyWhitelist(), ips: ['192.0.2.0/24'] }) });
  assert.deepEqual(
    suspectRows(a, whitelistReasons(wl), wl).map((r) => [r.day, r.rules, r.addresses.map((x) => x.ip)]),
    [
      ['2026-09-21', ['unlisted'], ['198.51.100.1']],
      ['2026-09-22', ['unlisted'], ['203.0.113.1']],
    ],
  );
  const neg = rules({ whitelist: wl.whitelist, limit: -2 });
  assert.deepEqual(
    suspectRows(a, whitelistReasons(neg), neg).map((r) => [r.day, r.rules, r.addresses.map((x) => [x.ip, x.whitelisted])]),
    [
      [
        '2026-09-21',
        ['addresses', 'unlisted'],
        [
          ['192.0.2.1', 'address'],
          ['198.51.100.1', null],
        ],
      ],
      ['2026-09-22', ['unlisted'], [['203.0.113.1', null]]],
    ],
  );
});

test("distributedRows: ≥ distributedMin addresses under the threshold for one account; the addresses' accounts for ATTACKED", () => {
  const o = rules();
  const ips = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];
  const a = ips.map((ip, i) => att(T + i, ip, 'failure', 'admin'));
  const { addresses } = stats(a, o);
  const d = distributedRows(a, addresses, o);
  assert.deepEqual(
    d.rows.map((r) => [r.account, r.failures, r.addresses.length]),
    [['admin', 4, 4]],
  );
  assert.deepEqual(d.accountsOf.get('192.0.2.3'), ['admin']);
  assert.deepEqual(distributedRows(a, addresses, rules({ distributedMin: 5 })).rows, []);
});

test('attackedRows: failures or 454s and no login, most first; blocks and their refusals; DISTRIBUTED accounts named', () => {
  const o = rules();
  const blocks: BlockInfo[] = [{ key: '192.0.2.1', client: '192.0.2.1', rule: 'auth', from: T + 2, until: T + 1202, rejects: 3, level: 0, source: 'capture' }];
  const a = [
    att(T, '192.0.2.1', 'failure', 'x'),
    att(T + 1, '192.0.2.1', 'failure', 'x'),
    att(T + 2, '192.0.2.1', 'failure', 'y'),
    att(T, '192.0.2.2', 'tempfail', null),
    att(T, '192.0.2.3', 'failure', 'z'),
    att(T + 1, '192.0.2.3', 'success', 'z'),
  ];
  const { addresses } = stats(a, o, blocks);
  const rows = attackedRows(addresses, new Map([['192.0.2.2', ['b', 'a']]]));
  assert.deepEqual(
    rows.map((r) => [r.address, r.failures.all, r.tempfails, r.rejects, r.would_block, r.distributed]),
    [
      ['192.0.2.1', 3, 0, 3, true, []],
      ['192.0.2.2', 0, 1, 0, false, ['a', 'b']],
    ],
  );
});
