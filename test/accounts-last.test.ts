/**
 * The "Last" of an account's day when two of its logins fall in the same second from different
 * addresses: the later line wins (issue 15 item 4; auth_checker.pl names the last line it read).
 * With one thread, with 2, 3 and 5 shares (the pairs straddle the shares' boundaries, and the
 * test checks they do), through the command line, and across several files (named order).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { AccountGroups, type ReportGroup, type ReportState } from '../src/accounts/account-groups.js';
import { scanSplit, type ShareSpec } from '../src/accounts/parallel-scan.js';
import { LogScanner } from '../src/accounts/parse-logs.js';
import type { AuthLogEvent } from '../src/accounts/types.js';
import { emptyWhitelist, Whitelist } from '../src/accounts/whitelist.js';

const SPEC: ShareSpec = {
  mode: 'all',
  zone: 0,
  year: 2023,
  limit: 0,
  nodate: false,
  nouser: false,
  users: [],
  userRegex: null,
  whitelist: emptyWhitelist(),
};

function newReport(): AccountGroups {
  return new AccountGroups({ limit: 0, nodate: false, nouser: false, zone: 0, users: [], userRegex: null }, new Whitelist(emptyWhitelist()));
}

/** Every line this long (LF included), so that the shares' cuts fall on known lines. */
const L = 160;
const LINES = 3000; // cuts: 2 shares at line 1500; 3 at 1000, 2000; 5 at 600, 1200, 1800, 2400
const BASE = Date.UTC(2023, 1, 13, 10, 0, 0) / 1000;

function stamp(ts: number): string {
  return new Date(ts * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function pad(line: string): string {
  assert.ok(line.length < L - 1, line);
  return line + 'x'.repeat(L - 1 - line.length);
}

function login(ts: number, user: string, ip: string): string {
  return pad(`${stamp(ts)} 1pRZ3k-0001Ab-Cd <= ${user}@example.com H=(laptop) [${ip}]:52544 P=esmtpsa A=dovecot_plain:${user} S=1234 id=`);
}

function filler(ts: number): string {
  return pad(`${stamp(ts)} 1pRZ3k-0001Ab-Ce Completed `);
}

/** Line i's time: ten lines a second. */
const t = (i: number): number => BASE + Math.floor(i / 10);

/**
 * Logins placed at line numbers; a pair at (i, i + 1) shares line i's second. Each case's earlier
 * logins give the address of the pair's first line more logins, so the old rule (ties to the
 * address listed first: most logins) named the earlier line.
 */
const PLACED = new Map<number, [number, string, string]>();
function place(i: number, user: string, ip: string, ts = t(i)): void {
  PLACED.set(i, [ts, user, ip]);
}
// alice: the pair straddles the 2-share cut (lines 1499 | 1500).
for (const i of [100, 200, 300]) place(i, 'alice', '198.51.100.10');
place(1499, 'alice', '198.51.100.10');
place(1500, 'alice', '203.0.113.20', t(1499));
// bob: straddles the 3-share cut (999 | 1000).
for (const i of [110, 210]) place(i, 'bob', '203.0.113.21');
place(999, 'bob', '203.0.113.21');
place(1000, 'bob', '198.51.100.11', t(999));
// carol: straddles the first 5-share cut (599 | 600), an IPv6 address then an IPv4 one.
for (const i of [120, 220]) place(i, 'carol', '2001:db8::7');
place(599, 'carol', '2001:db8::7');
place(600, 'carol', '198.51.100.12', t(599));
// dave: three logins in one second inside a share, A B A: A's later line is the last.
for (const i of [10, 20, 30]) place(i, 'dave', '198.51.100.13');
place(50, 'dave', '203.0.113.23', t(50));
place(51, 'dave', '198.51.100.13', t(50));
place(52, 'dave', '203.0.113.23', t(50));
// gina, hugo: A B | A across a cut (3 shares at 2000, 5 at 2400), all in one second: A's line in
// the later share is the last, so the merge must move A's latest line on in a same-second tie.
place(1998, 'gina', '198.51.100.16', t(1998));
place(1999, 'gina', '203.0.113.26', t(1998));
place(2000, 'gina', '198.51.100.16', t(1998));
place(2398, 'hugo', '2001:db8::17', t(2398));
place(2399, 'hugo', '203.0.113.27', t(2398));
place(2400, 'hugo', '2001:db8::17', t(2398));
// erin: a later second wins over a later line (the latest login, then the later line).
place(2500, 'erin', '198.51.100.14', t(2500));
place(2501, 'erin', '203.0.113.24', t(2500) - 5);

const WANT: Record<string, [string, number]> = {
  alice: ['203.0.113.20', t(1499)],
  bob: ['198.51.100.11', t(999)],
  carol: ['198.51.100.12', t(599)],
  dave: ['203.0.113.23', t(50)],
  erin: ['198.51.100.14', t(2500)],
  gina: ['198.51.100.16', t(1998)],
  hugo: ['2001:db8::17', t(2398)],
};

function craftedLog(): string {
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) {
    const p = PLACED.get(i);
    out.push(p ? login(p[0], p[1], p[2]) : filler(t(i)));
  }
  return out.join('\n') + '\n';
}

function lasts(groups: readonly ReportGroup[]): Record<string, [string, number]> {
  const r: Record<string, [string, number]> = {};
  for (const g of groups) r[g.user!] = [g.last.ip, g.last.last];
  return r;
}

async function oneThread(file: string): Promise<ReportGroup[]> {
  const report = newReport();
  await new LogScanner({ mode: 'all', tz: 0, year: 2023, intern: false }).scanFile(file, (ev) => report.add(ev), true);
  return report.result(() => null);
}

/** Whether a share's report holds a login of `user` from `ip` at `ts`. */
function holds(st: ReportState, user: string, ip: string, ts: number): boolean {
  return st.groups.some((g) => g.user === user && g.ips.some((s) => s.ip === ip && s.last === ts));
}

test('two logins of an account in the same second: Last is the later line, on 1, 2, 3 and 5 threads (pairs across the cuts)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-last-'));
  try {
    const file = join(dir, 'mainlog');
    writeFileSync(file, craftedLog());
    const want = WANT;
    const one = await oneThread(file);
    assert.deepEqual(lasts(one), want);
    const alice = one.find((g) => g.user === 'alice')!;
    assert.equal(alice.entries[0]!.ip, '198.51.100.10', 'the earlier line has more logins (listed first)');

    // [account, an address of the same-second logins in one share, one in the next share]
    const cuts: Record<number, [string, string, string][]> = {
      2: [['alice', '198.51.100.10', '203.0.113.20']],
      3: [
        ['bob', '203.0.113.21', '198.51.100.11'],
        ['gina', '203.0.113.26', '198.51.100.16'],
      ],
      5: [
        ['carol', '2001:db8::7', '198.51.100.12'],
        ['hugo', '203.0.113.27', '2001:db8::17'],
      ],
    };
    for (const threads of [2, 3, 5]) {
      const r = await scanSplit(file, SPEC, { threads, minShareBytes: 64 * 1024, warmupBytes: 16 * 1024 });
      assert.ok(r, 'split');
      assert.equal(r.threads, threads);
      assert.equal(r.exact, threads);
      for (const [user, early, late] of cuts[threads]!) {
        const ts = WANT[user]![1];
        const k = r.reports.findIndex((st) => holds(st, user, early, ts));
        assert.ok(k >= 0 && k + 1 < r.reports.length && holds(r.reports[k + 1]!, user, late, ts), `${threads} threads: ${user}'s logins straddle a cut`);
      }
      const merged = newReport();
      for (const st of r.reports) merged.absorb(st);
      const groups = merged.result(() => null);
      assert.deepEqual(lasts(groups), want, `${threads} threads`);
      assert.deepEqual(JSON.stringify(groups), JSON.stringify(one), `${threads} threads: the one-thread report`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('absorb: a later state wins a same-second tie, an earlier one does not replace a later second', () => {
  const ev = (ts: number, ip: string): AuthLogEvent => ({
    ts,
    tsGuessed: false,
    service: 'exim',
    outcome: 'success',
    user: 'u',
    ip,
    method: 'PLAIN',
    line: 1,
    file: 'f',
  });
  const first = newReport();
  first.add(ev(100, '198.51.100.1'));
  first.add(ev(100, '198.51.100.1'));
  const second = newReport();
  second.add(ev(100, '203.0.113.2'));
  const third = newReport();
  third.add(ev(99, '198.51.100.1'));
  const merged = newReport();
  for (const r of [first, second, third]) merged.absorb(r.state());
  const [g] = merged.result(() => null);
  assert.equal(g!.last.ip, '203.0.113.2');
  // The same events through one report: the same Last.
  const direct = newReport();
  for (const e of [ev(100, '198.51.100.1'), ev(100, '198.51.100.1'), ev(100, '203.0.113.2'), ev(99, '198.51.100.1')]) direct.add(e);
  assert.equal(direct.result(() => null)[0]!.last.ip, '203.0.113.2');
});

test('accounts (command line): Last is the later line; across files, the files in the order named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-last-'));
  try {
    writeFileSync(join(dir, 'mainlog'), craftedLog());
    const ts = BASE + 3600;
    writeFileSync(join(dir, 'a.log'), login(ts, 'frank', '198.51.100.15') + '\n' + login(ts, 'frank', '198.51.100.15') + '\n');
    writeFileSync(join(dir, 'b.log'), login(ts, 'frank', '203.0.113.25') + '\n');
    const run = (...files: string[]): string => {
      const r = spawnSync(process.execPath, [resolve('dist/src/cli.js'), 'accounts', '-g', '0', '-c', '/dev/null', '--tz', 'UTC', '--year', '2023', ...files], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const text = run('mainlog');
    assert.match(text, /^Feb 13 -> account alice: 2 IPs \(Last: 203\.0\.113\.20 @ 10:02:29\)$/m);
    assert.match(text, /^Feb 13 -> account dave: 2 IPs \(Last: 203\.0\.113\.23 @ 10:00:05\)$/m);
    assert.match(run('a.log', 'b.log'), /\(Last: 203\.0\.113\.25 @ 11:00:00\)/);
    assert.match(run('b.log', 'a.log'), /\(Last: 198\.51\.100\.15 @ 11:00:00\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
