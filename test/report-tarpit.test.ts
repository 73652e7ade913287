/**
 * The report's TARPITTED section (src/report/tarpit.ts): watch's tarpit_session / tarpit_refused
 * log lines (test/fixtures/tarpit/watch.log: four attackers, other watch events, garbage and
 * tarpit lines of the wrong shape) summed per attacker — exact figures in the JSON and the text;
 * the same from a gzip copy and from standard input; no section (and an unchanged report) without
 * tarpit lines; and the decoy 235 a capture saw on a connection the tarpit served never makes an
 * account COMPROMISED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ReportDoc } from '../src/report/report-doc.js';
import { inputKind } from '../src/report/sniff.js';
import { MAX_TARPIT_USERNAME_CHARS, MAX_TARPIT_USERNAMES, TarpitAggregator } from '../src/report/tarpit.js';
import { FrameList, loginSession, tempDir } from './support/synth.js';

const CLI = 'dist/src/cli.js';
const FIXTURE = 'test/fixtures/tarpit/watch.log';
const S = 1796000000; // the fixture's first tarpit session

function report(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'report', '-c', '/dev/null', '--no-state', '-g', '0', '--tz', 'UTC', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    input,
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function reportJson(args: string[], input?: string): ReportDoc {
  const r = report(['-q', '--json', ...args], input);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ReportDoc;
}

const EXPECTED_ATTACKERS = [
  {
    ip: '203.0.113.7',
    sessions: 3,
    held_s: 2100.75,
    longest_s: 1200,
    auth_attempts: 17,
    decoy_successes: 1,
    usernames: ['admin', 'info', 'test', 'evil\\x1b[31m', 'bad\u001b[2J'],
    usernames_more: 3,
    refused: 1,
    first_ts: S,
    last_ts: S + 3400,
    verdicts: [],
  },
  {
    ip: '2001:db8::5',
    sessions: 1,
    held_s: 1800,
    longest_s: 1800,
    auth_attempts: 3,
    decoy_successes: 1,
    usernames: ['root'],
    usernames_more: 0,
    refused: 0,
    first_ts: S + 500,
    last_ts: S + 2300,
    verdicts: [],
  },
  {
    ip: '198.51.100.9',
    sessions: 2,
    held_s: 30,
    longest_s: 20,
    auth_attempts: 0,
    decoy_successes: 0,
    usernames: [],
    usernames_more: 0,
    refused: 2,
    first_ts: S + 100,
    last_ts: S + 250,
    verdicts: [],
  },
  {
    ip: '192.0.2.200',
    sessions: 0,
    held_s: 0,
    longest_s: 0,
    auth_attempts: 0,
    decoy_successes: 0,
    usernames: [],
    usernames_more: 0,
    refused: 1,
    first_ts: S + 50,
    last_ts: S + 50,
    verdicts: [],
  },
];

function checkTotals(doc: ReportDoc, file: string, compression: string, lines = 21): void {
  const t = doc.tarpit;
  assert.ok(t, 'a tarpit section');
  assert.deepEqual(t.attackers, EXPECTED_ATTACKERS);
  assert.deepEqual(
    [t.attackers_count, t.sessions, t.held_s, t.hours, t.auth_attempts, t.decoy_successes, t.refused, t.sessions_not_listed],
    [4, 6, 3930.75, 1.09, 20, 2, { total: 2, per_address: 2 }, 0],
  );
  assert.deepEqual(t.wire_excluded, { sessions: 0, failures: 0, successes: 0, tempfails: 0 });
  assert.deepEqual(t.files, [
    { file, compression, lines, events: 16, tarpit_sessions: 6, tarpit_refused: 4, other_lines: 4, malformed: 3, garbage: lines === 21 ? 3 : 0, error: null },
  ]);
}

test('the fixture watch log is told apart by content: a watch log, not a mail log nor a capture', () => {
  assert.equal(inputKind(FIXTURE), 'watch');
  assert.equal(inputKind('pcaps/report/postfix.log'), 'log');
  assert.equal(inputKind('pcaps/report/report.pcap'), 'capture');
});

test('TARPITTED: exact per-attacker figures in the JSON, sorted by time held; garbage and malformed lines counted, skipped', () => {
  const doc = reportJson(['--logs', '/dev/null', FIXTURE]);
  checkTotals(doc, FIXTURE, 'none');
  assert.deepEqual(doc.options.logs, ['/dev/null'], 'the watch log is not read as a mail log');
});

test('TARPITTED: the text section, exactly', () => {
  const r = report(['-q', '--logs', '/dev/null', FIXTURE]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^smtpstrike report: 1 log, 1 watch log; times in \+00:00\n/);
  assert.match(r.stdout, /\n {2}COMPROMISED 0, SUSPECT 0, DISTRIBUTED 0, ATTACKED 0, BLIND SPOTS 1, TARPITTED 4\n/);
  const section = r.stdout.slice(r.stdout.indexOf('== TARPITTED'));
  assert.equal(
    section,
    [
      '== TARPITTED: time the tarpit wasted, per attacker ==',
      '  4 attackers, 6 sessions, 1.09 hours wasted (1 h 6 min); 20 AUTH attempts, 2 decoy 235s (no account involved); 4 connections refused by the caps (2 per address, 2 total)',
      '  test/fixtures/tarpit/watch.log: 3 lines not JSON, 3 tarpit lines of the wrong shape, skipped',
      '          held  sessions       longest  auths  decoys  refused  address          first -> last; usernames',
      '    35 min 1 s         3    20 min 0 s     17       1        1  203.0.113.7      00:53:20 -> 01:50:00; 5+ tried: admin, info, test, evil\\x1b[31m, bad\\x1b[2J, … (3 more tries)',
      '    30 min 0 s         1    30 min 0 s      3       1        0  2001:db8::5      01:01:40 -> 01:31:40; 1 tried: root',
      '          30 s         2          20 s      0       0        2  198.51.100.9     00:55:00 -> 00:57:30',
      '           0 s         0           0 s      0       0        1  192.0.2.200      00:54:10 -> 00:54:10',
      '',
    ].join('\n'),
  );
  assert.ok(!section.includes('\u001b'), 'no control character reaches the terminal');
});

test('TARPITTED: the same figures from a gzip copy, and from standard input (pino lines recognised inside a log)', () => {
  const { dir, cleanup } = tempDir();
  try {
    const gz = join(dir, 'watch.log.1.gz');
    writeFileSync(gz, gzipSync(readFileSync(FIXTURE)));
    assert.equal(inputKind(gz), 'watch');
    checkTotals(reportJson(['--logs', '/dev/null', gz]), gz, 'gzip');
    // A stream cannot be looked into first: read as a log, its pino lines go to the tarpit all the same.
    const doc = reportJson(['--logs', '-'], readFileSync(FIXTURE, 'utf8'));
    checkTotals(doc, '-', 'none', 17);
    const log = doc.inputs.logs.find((l) => l.file === '-');
    assert.ok(log);
    assert.equal(log.ignored >= 17, true, 'the pino lines count as ignored, not unparseable');
  } finally {
    cleanup();
  }
});

test('without tarpit lines the report is unchanged: no section, no JSON key; a watch log without tarpit events adds only its name to the header', () => {
  const files = ['report.pcap', 'postfix.log', 'dovecot.log'].map((f) => join('pcaps/report', f));
  const plain = report(['-q', ...files]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.ok(!plain.stdout.includes('TARPITTED'));
  assert.equal('tarpit' in reportJson(files), false);
  const { dir, cleanup } = tempDir();
  try {
    const w = join(dir, 'watch.log');
    writeFileSync(
      w,
      readFileSync(FIXTURE, 'utf8')
        .split('\n')
        .filter((l) => !l.includes('"tarpit_'))
        .join('\n'),
    );
    const withWatch = report(['-q', ...files, w]);
    assert.equal(withWatch.status, 0, withWatch.stderr);
    const [head1, ...rest1] = plain.stdout.split('\n');
    const [head2, ...rest2] = withWatch.stdout.split('\n');
    assert.equal(head2, head1!.replace('2 logs;', '2 logs, 1 watch log;'));
    assert.equal(rest2.join('\n'), rest1.join('\n'), 'byte-identical below the header');
    const doc = reportJson([...files, w]);
    assert.equal(doc.tarpit?.sessions, 0);
    assert.equal(doc.counts.COMPROMISED, 1);
  } finally {
    cleanup();
  }
});

/** An attacker on the wire: three 535s, then a 235 (the tarpit's decoy) on client port 41003; `admin` each time. */
async function decoyCapture(dir: string): Promise<string> {
  const fl = new FrameList();
  for (let i = 0; i < 4; i++) {
    loginSession(
      fl.conversation('en10mb', '198.51.100.66', 41000 + i, '192.0.2.25', 25),
      (S + i * 20) * 1e6,
      'admin',
      i < 3 ? '535 5.7.8 Error: authentication failed\r\n' : '235 2.7.0 Authentication successful\r\n',
    );
  }
  return fl.write(join(dir, 'decoy.pcap'));
}

function tarpitLine(port: number, started: number, held: number, decoys: number): string {
  return JSON.stringify({
    level: 30,
    time: new Date((started + held) * 1000).toISOString(),
    name: 'smtpstrike',
    event: 'tarpit_session',
    client: '198.51.100.66',
    client_port: port,
    local_port: 2525,
    started,
    held_s: held,
    bytes_in: 80,
    bytes_out: 400,
    commands: 5,
    auth_attempts: 1,
    decoy_successes: decoys,
    usernames: ['admin'],
    usernames_dropped: 0,
    starttls: false,
    end: 'quit',
    msg: 'tarpit session',
  });
}

test('safety: a decoy 235 the capture saw on a connection the tarpit served never makes an account COMPROMISED', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cap = await decoyCapture(dir);
    // Without the tarpit's log the wire alone says: failures, then a login.
    const before = reportJson(['--logs', '/dev/null', cap]);
    assert.equal(before.counts.COMPROMISED, 1, 'the capture alone reads as a compromise');

    // The tarpit served the connection of the 235 (same client port, started as the capture saw it).
    const served = join(dir, 'served.log');
    writeFileSync(served, tarpitLine(41003, S + 60, 11, 1) + '\n');
    const doc = reportJson(['--logs', '/dev/null', cap, served]);
    assert.equal(doc.counts.COMPROMISED, 0);
    assert.equal(doc.totals.successes.all, 0, 'the decoy is no login');
    assert.deepEqual(doc.tarpit?.wire_excluded, { sessions: 1, failures: 0, successes: 1, tempfails: 0 });
    const att = doc.verdicts.find((v) => v.verdict === 'ATTACKED');
    assert.ok(att && att.verdict === 'ATTACKED');
    assert.deepEqual([att.address, att.failures.all], ['198.51.100.66', 3], "the real server's 535s stay");
    assert.deepEqual(doc.tarpit?.attackers[0]?.verdicts, []);

    // Every connection tarpitted: nothing of it is the mail server's.
    const all = join(dir, 'all.log');
    writeFileSync(all, [0, 1, 2, 3].map((i) => tarpitLine(41000 + i, S + i * 20, 11, i === 3 ? 1 : 0)).join('\n') + '\n');
    const doc2 = reportJson(['--logs', '/dev/null', cap, all]);
    assert.deepEqual([doc2.counts.COMPROMISED, doc2.counts.ATTACKED, doc2.totals.attempts], [0, 0, 0]);
    assert.deepEqual(doc2.tarpit?.wire_excluded, { sessions: 4, failures: 3, successes: 1, tempfails: 0 });

    // A tarpit session on another connection of the same address takes nothing away: the login stays, and is marked.
    const other = join(dir, 'other.log');
    writeFileSync(other, tarpitLine(41999, S + 60, 11, 1) + '\n');
    const doc3 = reportJson(['--logs', '/dev/null', cap, other]);
    assert.equal(doc3.counts.COMPROMISED, 1);
    assert.deepEqual(doc3.tarpit?.wire_excluded, { sessions: 0, failures: 0, successes: 0, tempfails: 0 });
    assert.deepEqual(doc3.tarpit?.attackers[0]?.verdicts, ['COMPROMISED']);
    const text = report(['-q', '--logs', '/dev/null', cap, other]).stdout;
    assert.match(text, /198\.51\.100\.66 .*; ALSO COMPROMISED\n/);
  } finally {
    cleanup();
  }
});

test('the aggregator: usernames bounded per attacker, hostile lines counted and never thrown on', () => {
  const agg = new TarpitAggregator([], 2);
  const f = agg.file('x');
  const users = Array.from({ length: 50 }, (_, i) => `u${i}`);
  const line = (o: Record<string, unknown>): string => JSON.stringify({ level: 30, time: 0, ...o });
  assert.equal(agg.line(line({ event: 'tarpit_session', client: '192.0.2.1', started: 10, held_s: 1, usernames: users.slice(0, 30) }), f), true);
  assert.equal(agg.line(line({ event: 'tarpit_session', client: '192.0.2.1', started: 20, held_s: 2, usernames: users, usernames_dropped: 4 }), f), true);
  const long = 'x'.repeat(10_000);
  assert.equal(agg.line(line({ event: 'tarpit_session', client: '192.0.2.2', started: 30, held_s: 1, usernames: [long, long] }), f), true);
  const hostile = [
    line({ event: 'tarpit_session', client: 5, held_s: 1 }),
    line({ event: 'tarpit_session', client: '192.0.2.1', held_s: -1 }),
    line({ event: 'tarpit_session', client: '192.0.2.1', held_s: Infinity }),
    line({ event: 'tarpit_session', client: '192.0.2.1', held_s: 1, started: 'x', time: 'never' }),
    line({ event: 'tarpit_session', client: '192.0.2.1', held_s: 1, started: 5, usernames: 'admin', auth_attempts: -3 }),
    line({ event: 'tarpit_refused', client: '192.0.2.1', reason: 'other' }),
    line({ event: 'tarpit_refused', client: '192.0.2.9', reason: 'total', time: null }),
    '{"level":30,"event":"tarpit_session","client":"192.0.2.1","held_s":1,"usernames":[null,{},["a"],"z"]',
    '{"level":"30"}',
    '[1,2,3]',
    'null',
    '{',
  ];
  for (const h of hostile) agg.line(h, f);
  const r = agg.result({ sessions: 0, failures: 0, successes: 0, tempfails: 0 }, () => []);
  const a = r.attackers.find((x) => x.ip === '192.0.2.1');
  assert.ok(a);
  assert.equal(a.usernames.length, MAX_TARPIT_USERNAMES);
  assert.deepEqual(a.usernames, users.slice(0, MAX_TARPIT_USERNAMES));
  // Tries beyond the list, each counted (u16… in both sessions), and the tarpit's own dropped ones.
  assert.equal(a.usernames_more, 30 - MAX_TARPIT_USERNAMES + (50 - MAX_TARPIT_USERNAMES) + 4);
  assert.deepEqual([a.sessions, a.held_s, a.auth_attempts], [3, 4, 0], 'the session without usernames as a list counts, its bad counts as 0');
  assert.equal(f.malformed, 5);
  const cut = r.attackers.find((x) => x.ip === '192.0.2.2');
  assert.deepEqual(cut?.usernames, [`${'x'.repeat(MAX_TARPIT_USERNAME_CHARS - 1)}…`], 'a long username is kept cut, once');
  const only = r.attackers.find((x) => x.ip === '192.0.2.9');
  assert.deepEqual([only?.refused, only?.first_ts, only?.last_ts], [1, null, null]);
});

test('the aggregator: attackers beyond the listed maximum still count in the totals, and say so', () => {
  const agg = new TarpitAggregator([], 2, 3);
  const f = agg.file('x');
  for (let i = 0; i < 10; i++) {
    const line = JSON.stringify({
      level: 30,
      time: 0,
      event: 'tarpit_session',
      client: `192.0.2.${i + 1}`,
      started: 100 + i,
      held_s: 10 + i,
      auth_attempts: 1,
    });
    assert.equal(agg.line(line, f), true);
  }
  const r = agg.result({ sessions: 0, failures: 0, successes: 0, tempfails: 0 }, () => []);
  assert.deepEqual(
    r.attackers.map((a) => [a.ip, a.held_s]),
    [
      ['192.0.2.3', 12],
      ['192.0.2.2', 11],
      ['192.0.2.1', 10],
    ],
  );
  assert.deepEqual([r.sessions, r.held_s, r.auth_attempts, r.sessions_not_listed, r.held_s_not_listed], [10, 145, 10, 7, 112]);
});
