/**
 * `smtpstrike accounts` end to end, through the CLI: the seed's example report reproduced from a
 * small log set (test/fixtures/accounts/seed: Postfix + Dovecot mail.log, Exim mainlog, sshd
 * auth.log, Apache access.log, OpenWebMail log), the limit rule, per-address whitelists from the
 * config file, --nodate/--nouser, -u/--user-regex, -q for cron, --json, exit codes.
 * GeoIP comes from the fixture databases (scripts/make-geoip-fixtures.pl).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = 'dist/src/cli.js';
const SEED = 'test/fixtures/accounts/seed';
const LOGS = ['mail.log', 'mainlog', 'auth.log', 'access.log', 'openwebmail.log'].map((f) => join(SEED, f));
const GEO = ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb', 'asn-ipv4-num.csv', 'asn-ipv6.csv'].flatMap((f) => ['--geoip-db', join('test/fixtures/geoip', f)]);

export function accounts(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'accounts', '-c', '/dev/null', '--year', '2023', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    input,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withConfig(yaml: string, f: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-acc-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, yaml);
    f(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("report: the seed's example layout, from every log format at once", () => {
  const r = accounts([...GEO, ...LOGS]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(
    r.stdout,
    [
      'Feb 13 -> account hill: 2 IPs (Last: 37.188.232.65 @ 00:15:16)',
      '    3  37.188.232.65       Czechia, Prague - Vodafone Czech Republic a.s.',
      '    1  89.24.200.7         Czechia, Brno - O2 Czech Republic, a.s.',
      '',
      'Feb 13 -> account phill: 2 IPs (Last: 81.2.69.161 @ 07:05:00)',
      '    1  185.220.101.5       Germany, Berlin - Stiftung Erneuerbare Freiheit',
      '    1  81.2.69.161         United Kingdom, London - Andrews & Arnold Ltd',
      '',
      'Feb 14 -> account jana: 4 IPs (Last: 2a00:1450:4001::17 @ 11:00:00)',
      '    2  81.2.69.160         United Kingdom, London - Andrews & Arnold Ltd',
      '    1  8.8.8.8             United States, Mountain View - Google LLC',
      '    1  192.168.1.20        Private network',
      '    1  2a00:1450:4001::17  Germany, Frankfurt am Main - Google LLC',
      '',
    ].join('\n'),
  );
});

test('report: -g 1 prints the country only, -g 0 no place at all', () => {
  const one = accounts([...GEO, '-g', '1', '-u', 'hill', ...LOGS]);
  assert.equal(
    one.stdout,
    ['Feb 13 -> account hill: 2 IPs (Last: 37.188.232.65 @ 00:15:16)', '    3  37.188.232.65    Czechia', '    1  89.24.200.7      Czechia', ''].join('\n'),
  );
  const zero = accounts([...GEO, '-g', '0', '-u', 'hill', ...LOGS]);
  assert.equal(zero.stdout, ['Feb 13 -> account hill: 2 IPs (Last: 37.188.232.65 @ 00:15:16)', '    3  37.188.232.65', '    1  89.24.200.7', ''].join('\n'));
});

test('report: --limit — N distinct addresses, 0 any, negative counts whitelisted ones too', () => {
  const l3 = accounts([...GEO, '-g', '0', '-l', '3', ...LOGS]);
  assert.match(l3.stdout, /^Feb 14 -> account jana: 4 IPs/);
  assert.doesNotMatch(l3.stdout, /hill/);
  const l0 = accounts([...GEO, '-g', '0', '-l', '0', ...LOGS]);
  assert.match(l0.stdout, /account petr: 1 IP \(Last: 89\.24\.200\.8 @ 06:00:00\)\n {4}1 {2}89\.24\.200\.8\n/);
  const l1 = accounts([...GEO, '-g', '0', '--limit=1', ...LOGS]);
  assert.equal(l1.stdout, l0.stdout, 'limit 0 and 1 list the same groups');
  withConfig('accounts:\n  whitelist:\n    ips: [37.188.232.0/24]\n', (cfg) => {
    const pos = accounts(['-c', cfg, ...GEO, '-g', '0', '-u', 'hill', ...LOGS]);
    assert.equal(pos.stdout, 'No matching authentications found!\n', 'hill has one unlisted address: below the limit of 2');
    const neg = accounts(['-c', cfg, ...GEO, '-g', '0', '-u', 'hill', '-l', '-2', ...LOGS]);
    assert.equal(
      neg.stdout,
      ['Feb 13 -> account hill: 2 IPs (Last: 37.188.232.65 @ 00:15:16)', '    3  37.188.232.65    [whitelisted: address]', '    1  89.24.200.7', ''].join('\n'),
    );
  });
});

test('report: whitelists from the config file — addresses, users, countries, AS numbers, ISPs; each address by its own geo', () => {
  withConfig(
    `# accounts section
accounts:
  geoip_db:
    - test/fixtures/geoip/dbip-city-ipv4.mmdb
    - test/fixtures/geoip/dbip-city-ipv6.mmdb
    - test/fixtures/geoip/asn-ipv4-num.csv
    - test/fixtures/geoip/asn-ipv6.csv
  whitelist:
    ips: [192.168.0.0/16]
    users: [phill]
    countries: [gb]
    asns: [AS16019]
    isps: ["google"]
`,
    (cfg) => {
      const r = accounts(['-c', cfg, '-l', '1', ...LOGS]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          // 37.188.232.65 is AS16019 (whitelisted); 89.24.200.7 is not.
          'Feb 13 -> account hill: 1 IP (Last: 89.24.200.7 @ 00:10:00)',
          '    1  89.24.200.7      Czechia, Brno - O2 Czech Republic, a.s.',
          '',
          'Feb 13 -> account petr: 1 IP (Last: 89.24.200.8 @ 06:00:00)',
          '    1  89.24.200.8      Czechia, Brno - O2 Czech Republic, a.s.',
          // phill: a whitelisted account. jana: GB by country, 192.168.1.20 by network, both Google
          // addresses by ISP — nothing left.
          '',
        ].join('\n'),
      );
    },
  );
  // The group's last login is from Germany; whitelisting Germany drops that address only.
  withConfig('accounts:\n  whitelist:\n    countries: [DE]\n', (cfg) => {
    const r = accounts(['-c', cfg, ...GEO, '-g', '0', '-u', 'jana', ...LOGS]);
    assert.equal(
      r.stdout,
      ['Feb 14 -> account jana: 3 IPs (Last: 192.168.1.20 @ 09:45:00)', '    2  81.2.69.160', '    1  8.8.8.8', '    1  192.168.1.20', ''].join('\n'),
    );
  });
});

test('report: --nodate and --nouser', () => {
  const nodate = accounts([...GEO, '-g', '0', '--nodate', '-u', 'jana', ...LOGS]);
  assert.equal(nodate.stdout.split('\n')[0], 'account jana: 4 IPs (Last: 2a00:1450:4001::17 @ Feb 14 11:00:00)');
  const nouser = accounts([...GEO, '-g', '0', '--nouser', '-l', '5', ...LOGS]);
  assert.equal(nouser.stdout.split('\n')[0], 'Feb 13 -> all accounts: 5 IPs (Last: 81.2.69.161 @ 07:05:00)');
  const both = accounts([...GEO, '-g', '0', '--nouser', '--nodate', '-l', '9', ...LOGS]);
  assert.equal(both.stdout.split('\n')[0], 'all accounts: 9 IPs (Last: 2a00:1450:4001::17 @ Feb 14 11:00:00)');
});

test('report: -u is exact (repeatable), --user-regex matches patterns', () => {
  const exact = accounts([...GEO, '-g', '0', '-u', 'hill', ...LOGS]);
  assert.match(exact.stdout, /account hill:/);
  assert.doesNotMatch(exact.stdout, /phill/);
  const two = accounts([...GEO, '-g', '0', '-u', 'hill', '-u', 'jana', ...LOGS]);
  assert.deepEqual(
    [...two.stdout.matchAll(/account (\S+):/g)].map((m) => m[1]),
    ['hill', 'jana'],
  );
  const re = accounts([...GEO, '-g', '0', '--user-regex', 'h.ll$', ...LOGS]);
  assert.deepEqual(
    [...re.stdout.matchAll(/account (\S+):/g)].map((m) => m[1]),
    ['hill', 'phill'],
  );
  const bad = accounts(['--user-regex', '(', ...LOGS]);
  assert.equal(bad.status, 1);
});

test('report: nothing found — the message, or with -q nothing at all (cron: ... | mail -E)', () => {
  const none = accounts([...GEO, '-u', 'nobody', ...LOGS]);
  assert.equal(none.status, 0);
  assert.equal(none.stdout, 'No matching authentications found!\n');
  const quiet = accounts([...GEO, '-q', '-u', 'nobody', ...LOGS]);
  assert.equal(quiet.status, 0);
  assert.equal(quiet.stdout, '');
  assert.equal(quiet.stderr, '');
  // -q still prints a report when there is one.
  const found = accounts([...GEO, '-q', '-u', 'hill', ...LOGS]);
  assert.match(found.stdout, /^Feb 13 -> account hill/);
  // The cron line itself: mail -E sends nothing for empty input; here, `sh -c` stands in for it.
  const sh = spawnSync('sh', ['-c', `${process.execPath} ${CLI} accounts -c /dev/null -q -u nobody ${LOGS.join(' ')} | wc -c`], { encoding: 'utf8' });
  assert.equal(sh.stdout.trim(), '0');
});

test('report: --json — one object per group, then the summary with per-file counts', () => {
  const r = accounts([...GEO, '--json', '-u', 'hill', ...LOGS]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  const g = lines[0] as {
    type: string;
    day: string;
    user: string;
    ips: number;
    last: { ip: string; time: string };
    entries: { ip: string; count: number; services: string[]; methods: string[]; geo: { country_code: string; city: string; asn: number; org: string } }[];
  };
  assert.equal(g.type, 'account');
  assert.equal(g.day, '2023-02-13');
  assert.equal(g.user, 'hill');
  assert.equal(g.ips, 2);
  assert.deepEqual(g.last, { ip: '37.188.232.65', ts: Date.UTC(2023, 1, 13, 0, 15, 16) / 1000, time: '2023-02-13T00:15:16Z' });
  assert.deepEqual(g.entries[0]!.services, ['exim', 'postfix', 'dovecot']);
  assert.deepEqual(g.entries[0]!.methods, ['PLAIN', 'dovecot_plain']);
  assert.equal(g.entries[0]!.geo.asn, 16019);
  const s = lines[1] as {
    type: string;
    files: { file: string; successes: number; failures: number; unparseable: number; lines: number }[];
    totals: { failures: number };
  };
  assert.equal(s.type, 'summary');
  assert.deepEqual(
    s.files.map((f) => [f.file.split('/').pop(), f.lines, f.successes, f.failures, f.unparseable]),
    [
      ['mail.log', 12, 7, 2, 0],
      ['mainlog', 4, 1, 1, 0],
      ['auth.log', 4, 2, 1, 0],
      ['access.log', 2, 1, 0, 0],
      ['openwebmail.log', 2, 1, 1, 0],
    ],
  );
  assert.equal(s.totals.failures, 5);
});

test('report: exit 2 when a log cannot be read — the others are still reported', () => {
  const r = accounts([...GEO, '-u', 'hill', ...LOGS, 'test/fixtures/accounts/seed/no-such.log']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no-such\.log: no such file/);
  assert.match(r.stdout, /^Feb 13 -> account hill/);
});

test('report: bad usage exits 1', () => {
  assert.equal(accounts(['-m', 'smtp', ...LOGS]).status, 1);
  assert.equal(accounts(['-g', '3', ...LOGS]).status, 1);
  assert.equal(accounts(['-l', 'x', ...LOGS]).status, 1);
  assert.equal(accounts(['--tz', 'Mars/Olympus', ...LOGS]).status, 1);
  withConfig('accounts:\n  limt: 2\n', (cfg) => {
    const r = accounts(['-c', cfg, ...LOGS]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config\.yaml:2: unknown key "accounts\.limt"/);
  });
});

test('report: standard input ("-"), gzip and plain mixed', () => {
  const stdin = 'Feb 14 09:00:00 gw sshd[5001]: Accepted publickey for jana from 81.2.69.160 port 50000 ssh2: ED25519 SHA256:x\n';
  const r = accounts([...GEO, '-g', '0', '-u', 'jana', '-', 'test/fixtures/accounts/compressed/mail.log.gz', join(SEED, 'access.log')], stdin);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    ['Feb 14 -> account jana: 3 IPs (Last: 2a00:1450:4001::17 @ 11:00:00)', '    1  81.2.69.160', '    1  8.8.8.8', '    1  2a00:1450:4001::17', ''].join('\n'),
  );
});

test('report: GeoIP absent or broken → a warning and the plain layout, never a crash', () => {
  const broken = accounts(['--geoip-db', 'test/fixtures/geoip/broken.mmdb', '-u', 'hill', ...LOGS]);
  assert.equal(broken.status, 0, broken.stderr);
  assert.match(broken.stderr, /broken\.mmdb is unusable/);
  assert.equal(broken.stdout, ['Feb 13 -> account hill: 2 IPs (Last: 37.188.232.65 @ 00:15:16)', '    3  37.188.232.65', '    1  89.24.200.7', ''].join('\n'));
  const missing = accounts(['--geoip-db', '/nonexistent/GeoLite2-City.mmdb', '-u', 'hill', ...LOGS]);
  assert.equal(missing.status, 0);
  assert.match(missing.stderr, /not found/);
  assert.match(missing.stderr, /GeoIP is unavailable/);
  assert.equal(missing.stdout, broken.stdout);
  const quiet = accounts(['-q', '--geoip-db', '/nonexistent/x.mmdb', '-u', 'hill', ...LOGS]);
  assert.equal(quiet.stderr, '', '-q silences warnings');
});
