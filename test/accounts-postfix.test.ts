/**
 * Postfix parser (src/accounts/postfix.ts): sample lines as test vectors, fail2ban-filter style;
 * then whole sessions (the disconnect line's auth=N/M counted once per session, the session cap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClock } from '../src/accounts/clock.js';
import { LineParser, SUCCESS, FAILURE, TEMPFAIL, IGNORED, UNPARSEABLE } from '../src/accounts/line-parser.js';
import { LogScanner } from '../src/accounts/parse-logs.js';
import type { AuthLogEvent } from '../src/accounts/types.js';
import { checkVectors, type Vector } from './fixtures/accounts/check-vectors.js';

const POSTFIX_VECTORS: Vector[] = [
  // --- successes: the smtpd line of an authenticated client's message
  [
    'Feb 13 00:15:16 mail postfix/submission/smtpd[1234]: 4F1A2B3C4D: client=unknown[37.188.232.65], sasl_method=PLAIN, sasl_username=hill',
    { outcome: 'success', user: 'hill', ip: '37.188.232.65', method: 'PLAIN', time: '2023-02-13T00:15:16', guessed: true },
  ],
  [
    'Feb 13 00:15:17 mail.example.com postfix/smtpd[1235]: 4Xk2Ld0Yb3z9sKq: client=client.example.net[2001:db8::7]:51234, sasl_method=LOGIN, sasl_username=hill@example.com, sasl_sender=<hill@example.com>',
    { outcome: 'success', user: 'hill@example.com', ip: '2001:db8::7', method: 'LOGIN' },
  ],
  [
    '2023-02-13T00:15:18.123456+01:00 mail postfix/smtps/smtpd[99]: 0ABCDEF012: client=x[198.51.100.44], sasl_method=CRAM-MD5, sasl_username=carl',
    { outcome: 'success', user: 'carl', ip: '198.51.100.44', time: '2023-02-12T23:15:18.123', guessed: false },
  ],

  // --- failures
  [
    'Dec  2 22:24:22 hel postfix/smtpd[7676]: warning: 114-44-142-233.dynamic.hinet.net[114.44.142.233]: SASL CRAM-MD5 authentication failed: PDc3OTEwNTkyNTEyMzA2NDIuMTIyODI1MzA2MUBoZWw+',
    { outcome: 'failure', user: null, ip: '114.44.142.233', method: 'CRAM-MD5', reason: 'sasl' },
  ],
  [
    'Sep  6 00:44:57 trianon postfix/submission/smtpd[11538]: warning: unknown[82.221.106.233]: SASL login authentication failed: UGFzc3dvcmQ6',
    { outcome: 'failure', user: null, ip: '82.221.106.233', method: 'LOGIN' },
  ],
  [
    'Aug 4 16:47:52 mail3 postfix/smtpd[31152]: warning: unknown[192.0.2.237]:55729: SASL LOGIN authentication failed: authentication failure',
    { outcome: 'failure', user: null, ip: '192.0.2.237' },
  ],
  [
    'Nov  4 09:11:01 mail postfix/smtpd[1234]: warning: unknown[192.0.2.152]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=admin',
    { outcome: 'failure', user: 'admin', ip: '192.0.2.152' },
  ],
  [
    'Jan 29 08:11:45 mail postfix-incoming/smtpd[10752]: warning: unknown[2001:db8::9]: SASL PLAIN authentication failed:',
    { outcome: 'failure', user: null, ip: '2001:db8::9', method: 'PLAIN' },
  ],

  // --- day padding: Postfix's own maillog_file zero-pads the day (`Dec 05`), syslog space-pads it
  // (`Dec  5`), some relays write one digit (`Dec 5`): all three are the same moment
  [
    'Dec 05 04:09:00 mail postfix/submission/smtpd[4242]: warning: unknown[192.0.2.5]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
    { outcome: 'failure', user: 'alice', ip: '192.0.2.5', time: '2023-12-05T04:09:00', guessed: true },
  ],
  [
    'Dec  5 04:09:00 mail postfix/submission/smtpd[4242]: warning: unknown[192.0.2.5]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
    { outcome: 'failure', user: 'alice', ip: '192.0.2.5', time: '2023-12-05T04:09:00', guessed: true },
  ],
  [
    'Dec 5 04:09:00 mail postfix/submission/smtpd[4242]: warning: unknown[192.0.2.5]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
    { outcome: 'failure', user: 'alice', ip: '192.0.2.5', time: '2023-12-05T04:09:00', guessed: true },
  ],
  [
    'Dec 05 04:09:00 mail postfix/smtpd[4243]: 4F1A2B3C4E: client=unknown[192.0.2.6], sasl_method=PLAIN, sasl_username=bob',
    { outcome: 'success', user: 'bob', ip: '192.0.2.6', time: '2023-12-05T04:09:00', guessed: true },
  ],

  // --- the disconnect line's counter: auth=N/M is N successful AUTH commands of M, auth=N is N/N.
  // A login followed by QUIT (a credential checker) leaves only this line: N logins, account
  // unknown (a line on its own belongs to no session that named it).
  [
    'Dec  5 04:09:01 mail postfix/submission/smtpd[4242]: disconnect from unknown[10.240.0.4] ehlo=2 starttls=1 auth=1 quit=1 commands=5',
    { outcome: 'success', user: null, ip: '10.240.0.4', reason: 'disconnect', time: '2023-12-05T04:09:01', guessed: true },
  ],
  [
    'Dec 05 04:09:01 mail postfix/submission/smtpd[4242]: disconnect from unknown[10.240.0.4] ehlo=2 starttls=1 auth=1 quit=1 commands=5',
    { outcome: 'success', user: null, ip: '10.240.0.4', reason: 'disconnect', time: '2023-12-05T04:09:01', guessed: true },
  ],
  [
    'Dec  5 04:09:02 mail postfix/smtpd[4243]: disconnect from unknown[10.240.0.5] ehlo=2 starttls=1 auth=1/4 quit=1 commands=5/8',
    { outcome: 'success', user: null, ip: '10.240.0.5', reason: 'disconnect', time: '2023-12-05T04:09:02' },
  ],
  [
    'Dec 05 04:09:02 mail postfix/smtpd[4243]: disconnect from unknown[10.240.0.5] ehlo=2 starttls=1 auth=1/4 quit=1 commands=5/8',
    { outcome: 'success', user: null, ip: '10.240.0.5', reason: 'disconnect', time: '2023-12-05T04:09:02' },
  ],
  [
    'Dec  5 04:09:03 mail postfix/smtpd[4244]: disconnect from client.example.net[2001:db8::7]:51234 ehlo=1 auth=2 quit=1 commands=4',
    { outcome: 'success', user: null, ip: '2001:db8::7', count: 2 },
  ],
  [
    'Dec 05 04:09:03 mail postfix/smtpd[4244]: disconnect from unknown[192.0.2.9] ehlo=1 auth=2/3 quit=1 commands=4/5',
    { outcome: 'success', user: null, ip: '192.0.2.9', count: 2 },
  ],
  [
    '2023-12-05T04:09:04.5+00:00 mail postfix/smtps/smtpd[99]: disconnect from unknown[198.51.100.8] auth=1 quit=1 commands=2',
    { outcome: 'success', user: null, ip: '198.51.100.8', time: '2023-12-05T04:09:04.5', guessed: false },
  ],
  // no login: the failures are the warning lines', not counted again from M − N
  ['Dec  5 04:09:05 mail postfix/submission/smtpd[4242]: disconnect from unknown[10.200.0.2] ehlo=1 auth=0/3 quit=1 commands=2/4', 'ignored'],
  ['Dec 05 04:09:05 mail postfix/submission/smtpd[4242]: disconnect from unknown[10.200.0.2] ehlo=1 auth=0/3 quit=1 commands=2/4', 'ignored'],
  ['Dec  5 04:09:05 mail postfix/smtpd[4242]: disconnect from unknown[10.200.0.2] ehlo=1 quit=1 commands=2', 'ignored'],
  ['Dec  5 04:09:05 mail postfix/smtpd[4242]: connect from unknown[10.200.0.2]', 'ignored'],
  ['Dec  5 04:09:05 mail postfix/smtpd[4242]: disconnect from unknown[10.200.0.2] ehlo=1 auth=x/1 commands=2/3', 'unparseable'],
  ['Dec  5 04:09:05 mail postfix/smtpd[4242]: disconnect from unknown[not-an-ip] ehlo=1 auth=1 commands=2', 'unparseable'],

  // --- 454: Dovecot's auth penalty outlasted Postfix's wait; Postfix answered `454 4.7.0 Temporary
  // authentication failure` — a temporary failure, never a failure (the password may be right)
  [
    'Dec  5 02:33:01 mail postfix/submission/smtpd[17833]: warning: unknown[10.200.0.2]: SASL LOGIN authentication failed: Connection lost to authentication server, sasl_username=(unavailable)',
    { outcome: 'tempfail', user: '(unavailable)', ip: '10.200.0.2', method: 'LOGIN', reason: 'sasl-temp', time: '2023-12-05T02:33:01' },
  ],
  [
    'Dec 05 02:33:01 mail postfix/submission/smtpd[17833]: warning: unknown[10.200.0.2]: SASL LOGIN authentication failed: Connection lost to authentication server, sasl_username=(unavailable)',
    { outcome: 'tempfail', user: '(unavailable)', ip: '10.200.0.2', reason: 'sasl-temp', time: '2023-12-05T02:33:01' },
  ],
  [
    'Feb  3 08:29:28 mail postfix/smtpd[21022]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: Connection lost to authentication server',
    { outcome: 'tempfail', user: null, ip: '192.0.2.1', reason: 'sasl-temp' },
  ],
  // a username cannot make a failure a tempfail (the reason comes before it)
  [
    'Dec  5 02:33:02 mail postfix/smtpd[17833]: warning: unknown[10.200.0.2]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=Connection lost to authentication server',
    { outcome: 'failure', user: 'Connection lost to authentication server', ip: '10.200.0.2', reason: 'sasl' },
  ],

  // --- not outcomes
  ['Feb 13 00:15:16 mail postfix/smtpd[1234]: 4F1A2B3C4D: client=mx.example.org[198.51.100.50]', 'ignored'],
  ['Feb 13 00:15:16 mail postfix/qmgr[99]: 4F1A2B3C4D: from=<hill@example.com>, size=1234, nrcpt=1 (queue active)', 'ignored'],
  ['May 11 04:02:37 host1 postfix/smtpd[26897]: NOQUEUE: reject: RCPT from unknown[192.168.1.1]: 554 5.7.1 Service unavailable', 'ignored'],
  ['Feb 13 00:15:16 mail postfix/smtpd[1234]: warning: hostname x.example does not resolve to address 198.51.100.51', 'ignored'],
  ['Feb 13 00:15:16 mail postfix/smtpd[1234]: 4F1A2B3C4D: client=unknown[not-an-ip], sasl_method=PLAIN, sasl_username=x', 'unparseable'],
];

checkVectors('postfix', POSTFIX_VECTORS);

// --- sessions: the disconnect line's logins are counted once per session (several lines, one parser)

const VERDICT = { [IGNORED]: 'ignored', [SUCCESS]: 'success', [FAILURE]: 'failure', [UNPARSEABLE]: 'unparseable', [TEMPFAIL]: 'tempfail' } as const;

/** Each line's verdict, `user` and count for outcomes: `success alice`, `success ? x2`, `failure alice`. */
function run(lines: readonly string[], maxSessions?: number): { out: string[]; parser: LineParser } {
  const parser = new LineParser('all', new LogClock(0, Date.UTC(2023, 11, 31) / 1000, 2023), 0, maxSessions);
  const out = lines.map((l) => {
    const v = parser.parse(l);
    if (v !== SUCCESS && v !== FAILURE && v !== TEMPFAIL) return VERDICT[v];
    const h = parser.hit;
    return `${VERDICT[v]} ${h.user ?? '?'}${h.count !== 1 ? ` x${h.count}` : ''}`;
  });
  return { out, parser };
}

const S = 'Dec 05 04:09:00 mail postfix/submission/smtpd';

test('postfix sessions: a session whose login a sasl_username= line reported gives no second login from auth=1', () => {
  const { out, parser } = run([
    `${S}[9171]: connect from unknown[10.200.0.5]`,
    `${S}[9171]: 8400820E42E: client=unknown[10.200.0.5], sasl_method=LOGIN, sasl_username=alice`,
    `${S}[9171]: 8400820E43F: client=unknown[10.200.0.5], sasl_method=LOGIN, sasl_username=alice`,
    `${S}[9171]: disconnect from unknown[10.200.0.5] ehlo=2 starttls=1 auth=1 mail=2 rcpt=2 data=2 quit=1 commands=11`,
  ]);
  assert.deepEqual(out, ['ignored', 'success alice', 'success alice', 'ignored']);
  assert.equal(parser.postfix.openSessions, 0);
});

test('postfix sessions: AUTH then QUIT after three failures (auth=1/4): three failures, one login of unknown account', () => {
  const { out } = run([
    `${S}[9171]: connect from unknown[10.240.0.4]`,
    `${S}[9171]: warning: unknown[10.240.0.4]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice`,
    `${S}[9171]: warning: unknown[10.240.0.4]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice`,
    `${S}[9171]: warning: unknown[10.240.0.4]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice`,
    `${S}[9171]: disconnect from unknown[10.240.0.4] ehlo=2 starttls=1 auth=1/4 quit=1 commands=5/8`,
  ]);
  assert.deepEqual(out, ['ignored', 'failure alice', 'failure alice', 'failure alice', 'success ?']);
});

test('postfix sessions: a session is one process and one client, from connect to disconnect', () => {
  const { out, parser } = run([
    // pid 9171 serves 10.200.0.5 with a mail; meanwhile pid 9172 serves the same client, AUTH then QUIT
    `${S}[9171]: connect from unknown[10.200.0.5]`,
    `${S}[9172]: connect from unknown[10.200.0.5]`,
    `${S}[9171]: 8400820E42E: client=unknown[10.200.0.5], sasl_method=LOGIN, sasl_username=alice`,
    `${S}[9172]: disconnect from unknown[10.200.0.5] ehlo=1 auth=1 quit=1 commands=3`,
    // another process (pid 9173) with the same client: a different session
    `Dec 05 04:09:00 mail postfix/smtpd[9173]: disconnect from unknown[10.200.0.5] ehlo=1 auth=1 quit=1 commands=3`,
    `${S}[9171]: disconnect from unknown[10.200.0.5] ehlo=2 auth=1 mail=1 quit=1 commands=6`,
    // the same process and client again, AUTH then QUIT: a new session, so a new login
    `${S}[9171]: connect from unknown[10.200.0.5]`,
    `${S}[9171]: disconnect from unknown[10.200.0.5] ehlo=1 auth=1 quit=1 commands=3`,
  ]);
  assert.deepEqual(out, ['ignored', 'ignored', 'success alice', 'success ?', 'success ?', 'ignored', 'ignored', 'success ?']);
  assert.equal(parser.postfix.openSessions, 0);
});

test('postfix sessions: one client with several named sessions open at once; RFC 5424 lines keyed by their PROCID', () => {
  const { out, parser } = run([
    `${S}[201]: 1A: client=unknown[192.0.2.7], sasl_method=PLAIN, sasl_username=relay`,
    `${S}[202]: 1B: client=unknown[192.0.2.7], sasl_method=PLAIN, sasl_username=relay`,
    `${S}[203]: disconnect from unknown[192.0.2.7] ehlo=1 auth=1 quit=1 commands=3`,
    `${S}[202]: disconnect from unknown[192.0.2.7] ehlo=1 auth=1 mail=1 quit=1 commands=4`,
    `${S}[201]: disconnect from unknown[192.0.2.7] ehlo=1 auth=1 mail=1 quit=1 commands=4`,
    '<22>1 2023-12-05T04:09:00Z mail postfix/smtpd 4711 - - 2C: client=unknown[192.0.2.8], sasl_method=PLAIN, sasl_username=carl',
    '<22>1 2023-12-05T04:09:01Z mail postfix/smtpd 4712 - - disconnect from unknown[192.0.2.8] ehlo=1 auth=1 quit=1 commands=3',
    '<22>1 2023-12-05T04:09:02Z mail postfix/smtpd 4711 - - disconnect from unknown[192.0.2.8] ehlo=1 auth=1 mail=1 quit=1 commands=4',
  ]);
  assert.deepEqual(out, ['success relay', 'success relay', 'success ?', 'ignored', 'ignored', 'success carl', 'success ?', 'ignored']);
  assert.equal(parser.postfix.openSessions, 0);
});

test('postfix sessions: a lost disconnect line is forgotten at the next connect of the same process and client', () => {
  const { out } = run([
    `${S}[9171]: connect from unknown[10.200.0.5]`,
    `${S}[9171]: 8400820E42E: client=unknown[10.200.0.5], sasl_method=LOGIN, sasl_username=alice`,
    // (no disconnect line: rotated away, or the log was cut)
    `${S}[9171]: connect from unknown[10.200.0.5]`,
    `${S}[9171]: disconnect from unknown[10.200.0.5] ehlo=1 auth=1 quit=1 commands=3`,
  ]);
  assert.deepEqual(out, ['ignored', 'success alice', 'ignored', 'success ?']);
});

test('postfix sessions: at most maxSessions named sessions are kept, the oldest dropped and counted', () => {
  const lines: string[] = [];
  for (let i = 1; i <= 5; i++) lines.push(`${S}[${100 + i}]: 8400820E42${i}: client=unknown[192.0.2.${i}], sasl_method=PLAIN, sasl_username=u${i}`);
  for (let i = 1; i <= 5; i++) lines.push(`${S}[${100 + i}]: disconnect from unknown[192.0.2.${i}] ehlo=1 auth=1 mail=1 quit=1 commands=4`);
  const { out, parser } = run(lines, 3);
  // Sessions 1 and 2 were dropped: their disconnect lines count a login again (under no account).
  assert.deepEqual(out.slice(5), ['success ?', 'success ?', 'ignored', 'ignored', 'ignored']);
  assert.equal(parser.postfix.sessionsDropped, 2);
  assert.equal(parser.postfix.openSessions, 0);
});

test('postfix sessions: the default cap holds 10,000 open sessions (a sixteenth dropped when full); LogScanner reports the dropped ones and the count of logins', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 10_050; i++) {
    lines.push(
      `${S}[${1000 + i}]: ${(0x100000 + i).toString(16).toUpperCase()}: client=unknown[10.${(i >> 8) & 255}.${i & 255}.1], sasl_method=PLAIN, sasl_username=u`,
    );
  }
  lines.push(`${S}[999]: disconnect from unknown[192.0.2.9] ehlo=1 auth=2/3 quit=1 commands=4/5`);
  lines.push(`${S}[998]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: Connection lost to authentication server, sasl_username=(unavailable)`);
  const dir = mkdtempSync(join(tmpdir(), 'pfsess-'));
  const file = join(dir, 'mail.log');
  writeFileSync(file, lines.join('\n') + '\n');
  const events: AuthLogEvent[] = [];
  const c = await new LogScanner({ tz: 'UTC', year: 2023 }).scanFile(file, (e) => events.push(e));
  assert.equal(c.sessionsDropped, 625);
  assert.deepEqual([c.successes, c.failures, c.tempfails, c.lines], [10_051, 0, 1, 10_052]);
  const last = events.slice(-2);
  assert.deepEqual(
    last.map((e) => [e.outcome, e.user, e.count, e.reason]),
    [
      ['success', null, 2, 'disconnect'],
      ['tempfail', '(unavailable)', undefined, 'sasl-temp'],
    ],
  );
});

test('accounts CLI: disconnect-line logins count (account none), a named session once, a 454 apart from the failures', async () => {
  const { spawnSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'pfcli-'));
  const file = join(dir, 'mail.log');
  writeFileSync(
    file,
    [
      `${S}[9171]: connect from unknown[10.200.0.5]`,
      `${S}[9171]: warning: unknown[10.200.0.5]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice`,
      `${S}[9171]: 8400820E42E: client=unknown[10.200.0.5], sasl_method=LOGIN, sasl_username=alice`,
      `${S}[9171]: disconnect from unknown[10.200.0.5] ehlo=2 starttls=1 auth=1/2 mail=1 rcpt=1 data=1 quit=1 commands=8/9`,
      `${S}[9171]: connect from unknown[10.240.0.4]`,
      `${S}[9171]: warning: unknown[10.240.0.4]: SASL LOGIN authentication failed: Connection lost to authentication server, sasl_username=(unavailable)`,
      `${S}[9171]: disconnect from unknown[10.240.0.4] ehlo=2 starttls=1 auth=1/2 quit=1 commands=5/6`,
      `Dec  5 04:10:00 mail postfix/smtpd[9172]: disconnect from unknown[10.240.0.9] ehlo=2 starttls=1 auth=1 quit=1 commands=5`,
    ].join('\n') + '\n',
  );
  const r = spawnSync(
    process.execPath,
    ['dist/src/cli.js', 'accounts', '-c', '/dev/null', '--json', '-g', '0', '-l', '1', '--tz', 'UTC', '--year', '2023', '--stats', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const objs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const groups = objs.filter((o) => o.type === 'account') as { user: string | null; entries: { ip: string; count: number }[] }[];
  assert.deepEqual(
    groups.map((g) => [g.user, g.entries.map((e) => [e.ip, e.count])]),
    [
      [
        null,
        [
          ['10.240.0.4', 1],
          ['10.240.0.9', 1],
        ],
      ],
      ['alice', [['10.200.0.5', 1]]],
    ],
  );
  const sum = objs.find((o) => o.type === 'summary') as { totals: Record<string, number> };
  assert.deepEqual([sum.totals.successes, sum.totals.failures, sum.totals.tempfails, sum.totals.sessions_dropped], [3, 1, 1, 0]);
  assert.match(r.stderr, /3 successes, 1 failures, 1 temporary failures \(454\)/);
});

test('postfix, a real test-bed run (Postfix 3.7.11, TLS-only, AUTH then QUIT, Dovecot penalty): each login counted from its disconnect line, the 454s apart', async () => {
  const events: AuthLogEvent[] = [];
  const c = await new LogScanner({ tz: 'UTC', year: 2026 }).scanFile('test/fixtures/accounts/testbed/postfix-tls-auth-quit.log', (e) => events.push(e));
  assert.deepEqual([c.lines, c.successes, c.failures, c.tempfails, c.unparseable], [24, 2, 10, 2, 0]);
  const by = (ip: string, o: string): number => events.filter((e) => e.ip === ip && e.outcome === o).length;
  assert.deepEqual([by('10.217.0.3', 'failure'), by('10.217.0.3', 'success')], [4, 1]);
  assert.deepEqual([by('10.217.0.4', 'failure'), by('10.217.0.4', 'tempfail'), by('10.217.0.4', 'success')], [6, 2, 1]);
  for (const e of events.filter((x) => x.outcome === 'success')) assert.deepEqual([e.user, e.reason], [null, 'disconnect']);
  assert.deepEqual(
    events.filter((e) => e.outcome === 'tempfail').map((e) => e.user),
    ['alice', 'alice'],
  );
  // The disconnect line's M − N (4 and 8) equals the warning lines: failures are not counted twice.
  assert.equal(events.filter((e) => e.outcome !== 'success').length, 4 + 8);
  assert.equal(new Date(events[0]!.ts * 1000).toISOString(), '2026-12-05T03:34:40.000Z');
});
