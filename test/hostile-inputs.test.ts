/**
 * Hostile and odd inputs (issue 9): timestamps no date can show, a corrupt record under `dump`,
 * directories and FIFOs among the inputs, control characters in names and replies, a "log" that
 * never ends a line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { CLI, smtpstrike } from './support/cli.js';
import { FrameList, loginSession, tempDir } from './support/synth.js';
import { escapeControl } from '../src/text/control-chars.js';

const run = (args: string[], input?: Buffer | string): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, input, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const HOSTILE_TS = 'pcaps/crafted/hostile-tsoffset.pcapng';

test('if_tsoffset -2^62: the 17 packets are a counted skip (badTimestamp), never a NaN date', () => {
  const text = run(['replay', HOSTILE_TS]);
  assert.equal(text.status, 0, text.stderr);
  assert.equal(text.stderr, '');
  assert.doesNotMatch(text.stdout, /NaN|Invalid/);
  assert.match(text.stdout, /^  packets 42 \(3068 bytes\), SMTP 25; skipped: badTimestamp 17$/m);
  assert.match(text.stdout, /^  time span 2026-01-10 10:00:00\.000000 → 2026-01-10 10:00:00\.039200 \(0s\)$/m);

  const json = smtpstrike(['replay', '--json', HOSTILE_TS]);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(json.summary.coverage.skipped, { badTimestamp: 17 });
  assert.deepEqual(Object.keys(json.summary.clients), ['198.51.100.90']);

  // dump shows every packet; the 17 say that their time cannot be shown.
  const dump = run(['dump', '-r', HOSTILE_TS]);
  assert.equal(dump.status, 0, dump.stderr);
  const stamps = dump.stdout
    .split('\n')
    .filter((l) => /^\S/.test(l))
    .map((l) => l.split(' ')[0]!);
  assert.equal(stamps.length, 42);
  assert.equal(stamps.filter((s) => s === '[timestamp').length, 17);
  assert.ok(
    stamps.every((s) => s === '[timestamp' || /^10:00:00\.\d{6}$/.test(s)),
    stamps.join(' '),
  );
});

test('dump: a corrupt record is exit status 2, and what the end of input completes is still printed', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // The 535 comes after a lost segment, so it is printed only when the flow is closed at the end of input.
    const fl = new FrameList();
    const c = fl.conversation('en10mb', '198.51.100.7', 40000, '192.0.2.25', 25);
    const t = 1_768_039_200_000_000;
    c.open(t);
    c.fromServer('220 mx ESMTP\r\n', t + 1000);
    c.fromClient(`AUTH PLAIN ${Buffer.from('\0alice\0wrong').toString('base64')}\r\n`, t + 2000);
    c.raw(false, c.sseq + 10, '535 5.7.8 Error: authentication failed\r\n', t + 3000);
    const clean = await fl.write(join(dir, 'clean.pcap'));
    const header = Buffer.alloc(16);
    header.writeUInt32LE(0x7fffffff, 8); // caplen 2^31-1: a record nobody can read
    header.writeUInt32LE(0x7fffffff, 12);
    const bad = join(dir, 'bad.pcap');
    const cleanBytes = readFileSync(clean);
    writeFileSync(bad, Buffer.concat([cleanBytes, header]));

    const good = run(['dump', '-r', clean]);
    assert.equal(good.status, 0);
    assert.match(good.stdout, /S: 535 5\.7\.8 Error: authentication failed\n.*>> STRIKE 1\/3 198\.51\.100\.7 \(535, PLAIN alice\)\n$/);
    const r = run(['dump', '-r', bad]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, good.stdout);
    assert.equal(r.stderr, `smtpstrike: ${bad}: record claims a 2147483647-byte packet (more than 262144) at byte offset ${cleanBytes.length}\n`);

    const shipped = run(['dump', '-r', 'pcaps/crafted/broken-caplen.pcap']);
    assert.equal(shipped.status, 2);
    assert.equal(
      shipped.stderr,
      'smtpstrike: pcaps/crafted/broken-caplen.pcap: record claims a 2147483647-byte packet (more than 262144) at byte offset 828\n',
    );
  } finally {
    cleanup();
  }
});

/** `bash -c SCRIPT` (for process substitution), TZ=UTC. */
const bash = (script: string): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 << 20, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const GAP = 'pcaps/crafted/gap.pcap';
const GAP_CLIENTS = { '198.51.100.54': { failures: 2, successes: 0, tempfails: 0, users: ['alice'], inferred: { failures: 0, successes: 0, tempfails: 0 } } };
const summaryOf = (stdout: string): { clients: unknown; files: { file: string; compressed: boolean; packets: number }[] } =>
  JSON.parse(stdout.trim().split('\n').pop()!) as { clients: unknown; files: { file: string; compressed: boolean; packets: number }[] };

test('a directory among the inputs is named, and the other inputs are still read (exit status 2)', () => {
  const { dir, cleanup } = tempDir();
  try {
    const r = smtpstrike(['replay', '--json', dir, GAP]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `smtpstrike: ${dir}: is a directory, not a capture file\n`);
    assert.deepEqual(r.summary.clients, GAP_CLIENTS);

    const asLog = run(['report', '--no-state', '-c', '/dev/null', '-g', '0', dir, GAP]);
    assert.equal(asLog.status, 2);
    assert.equal(asLog.stderr, `smtpstrike report: warning: ${dir}: is a directory, not a log file\n`);
    assert.match(asLog.stdout, /^  2 failed attempts \(wire 2, log 0, 0 on both\)/m);
    const asCapture = run([
      'report',
      '--no-state',
      '-c',
      '/dev/null',
      '-g',
      '0',
      '--capture',
      dir,
      '--logs',
      'test/fixtures/accounts/seed/mail.log',
      '--log-tz',
      'UTC',
      '--log-year',
      '2026',
    ]);
    assert.equal(asCapture.status, 2);
    assert.equal(asCapture.stderr, `smtpstrike report: warning: ${dir}: is a directory, not a capture file\n`);
    const asState = run(['report', '-c', '/dev/null', '-g', '0', '--state', dir]);
    assert.equal(asState.status, 1);
    assert.equal(asState.stderr, `smtpstrike: ${dir}: cannot read the state file (a directory)\n`);

    const accounts = run(['accounts', '-c', '/dev/null', '-g', '0', dir]);
    assert.equal(accounts.status, 2);
    assert.equal(accounts.stderr, `smtpstrike accounts: ${dir}: is a directory, not a log file\n`);
  } finally {
    cleanup();
  }
});

test('a FIFO or process substitution is a stream to read, like "-", gzip-compressed or not; gzip on stdin too', () => {
  const cli = `"${process.execPath}" "${CLI}"`;
  for (const source of [`<(cat ${GAP})`, `<(gzip -c ${GAP})`]) {
    const r = bash(`${cli} replay --json --summary-only ${source}`);
    assert.equal(r.status, 0, `${source}: ${r.stderr}`);
    const s = summaryOf(r.stdout);
    assert.deepEqual(s.clients, GAP_CLIENTS, source);
    assert.equal(s.files[0]!.packets, 24);
    assert.equal(s.files[0]!.compressed, source.includes('gzip'));
  }
  const { dir, cleanup } = tempDir();
  try {
    const fifo = join(dir, 'fifo');
    const r = bash(`mkfifo "${fifo}" && { gzip -c ${GAP} > "${fifo}" & } && ${cli} replay --json --summary-only "${fifo}"`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(summaryOf(r.stdout).clients, GAP_CLIENTS);
  } finally {
    cleanup();
  }
  const stdin = run(['replay', '--json', '--summary-only', '-'], gzipSync(readFileSync(GAP)));
  assert.equal(stdin.status, 0, stdin.stderr);
  assert.deepEqual(summaryOf(stdin.stdout).clients, GAP_CLIENTS);
  assert.equal(summaryOf(stdin.stdout).files[0]!.compressed, true);

  const dump = bash(`${cli} dump -r <(gzip -c ${GAP})`);
  assert.equal(dump.status, 0, dump.stderr);
  assert.equal(dump.stdout, run(['dump', '-r', GAP]).stdout);

  // report: a stream given without --capture is a log (it cannot be looked into without using it up).
  const log = 'test/fixtures/accounts/seed/mail.log';
  const plain = run(['report', '--no-state', '-c', '/dev/null', '-g', '0', '--log-tz', 'UTC', '--log-year', '2026', log]);
  const fromStream = bash(`${cli} report --no-state -c /dev/null -g 0 --log-tz UTC --log-year 2026 <(gzip -c ${log})`);
  assert.equal(fromStream.status, 0, fromStream.stderr);
  assert.equal(fromStream.stdout, plain.stdout); // the text names no log file
  const capture = bash(`${cli} report --no-state -c /dev/null -g 0 -q --capture <(gzip -c ${GAP})`);
  assert.equal(capture.status, 0, capture.stderr);
  assert.match(capture.stdout, /^  2 failed attempts \(wire 2, log 0, 0 on both\)/m);
  // A capture stream given as a log is not read as garbage lines: it says what to do.
  const misnamed = bash(`${cli} report --no-state -c /dev/null -g 0 <(gzip -c ${GAP})`);
  assert.equal(misnamed.status, 2);
  assert.match(
    misnamed.stderr,
    /^smtpstrike report: warning: \/dev\/fd\/\d+: is a capture, not a log \(a stream cannot be looked into first: name it with --capture\)\n$/,
  );
});

test('/dev/zero as a log ends with an error naming it (a line over 64 KiB is not a log line), exit status 2', () => {
  const msg = '/dev/zero: line 1 is longer than 64 KiB: not a text log (read stopped there)';
  const accounts = run(['accounts', '-c', '/dev/null', '-g', '0', '/dev/zero']);
  assert.equal(accounts.status, 2);
  assert.equal(accounts.stderr, `smtpstrike accounts: ${msg}\n`);
  assert.equal(accounts.stdout, 'No matching authentications found!\n');
  const report = run(['report', '--no-state', '-c', '/dev/null', '-g', '0', '/dev/zero']);
  assert.equal(report.status, 2);
  assert.equal(report.stderr, `smtpstrike report: warning: ${msg}\n`);
  assert.match(report.stdout, new RegExp(`^  read error: ${msg.replace(/[()]/g, '\\$&')}$`, 'm'));
});

test('a log line over 64 KiB stops that file with its line number; the lines before it count', () => {
  const { dir, cleanup } = tempDir();
  try {
    const ok =
      'Feb 13 00:01:02 mail.example.com postfix/submission/smtpd[2001]: 4F1A2B3C01: client=unknown[192.0.2.7], sasl_method=PLAIN, sasl_username=hill\n';
    const log = join(dir, 'mail.log');
    writeFileSync(log, ok + ok + 'x'.repeat(64 * 1024 + 1) + '\n' + ok);
    const r = run(['accounts', '-c', '/dev/null', '-g', '0', '-l', '0', '--year', '2026', '--tz', 'UTC', '--json', log]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `smtpstrike accounts: ${log}: line 3 is longer than 64 KiB: not a text log (read stopped there)\n`);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { totals: { successes: number; lines: number } };
    assert.equal(summary.totals.successes, 2);
    // Exactly 64 KiB is still a line.
    writeFileSync(log, ok + 'x'.repeat(64 * 1024) + '\n' + ok);
    const fine = run(['accounts', '-c', '/dev/null', '-g', '0', '-l', '0', '--year', '2026', '--tz', 'UTC', '--json', log]);
    assert.equal(fine.status, 0, fine.stderr);
  } finally {
    cleanup();
  }
});

test('escapeControl: C0, DEL, C1 and bidi overrides escaped; nothing else; idempotent', () => {
  assert.equal(escapeControl('alice'), 'alice');
  assert.equal(escapeControl('a\x1b[31mb\n\t\x7f\x9b\u202e\u2066c'), 'a\\x1b[31mb\\x0a\\x09\\x7f\\x9b\\u202e\\u2066c');
  assert.equal(escapeControl('bjørn \\ ünïcode 名前'), 'bjørn \\ ünïcode 名前');
  const once = escapeControl('\x1b]0;x\x07');
  assert.equal(escapeControl(once), once);
});

/** Control characters a terminal would act on (what text output must never contain besides newlines). */
// eslint-disable-next-line no-control-regex -- control characters are what this test looks for
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('usernames and replies from captures and logs print with control characters escaped in every text output', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // A LOGIN username with an SGR sequence, a UTF-8 C1 CSI and a right-to-left override (as bytes),
    // answered by a 535 whose text clears the screen and sets the window title.
    const fl = new FrameList();
    const c = fl.conversation('en10mb', '198.51.100.66', 40000, '192.0.2.25', 587);
    loginSession(c, 1_768_039_200_000_000, 'root\x1b[31m\xc2\x9b2J\xe2\x80\xae', '535 5.7.8 \x1b[2J\x1b]0;owned\x07 denied\r\n');
    // And a mechanism name of the client's own making (upper-cased, as every mechanism name is).
    const m = fl.conversation('en10mb', '198.51.100.67', 40001, '192.0.2.25', 587);
    const t = 1_768_039_300_000_000;
    m.open(t);
    m.fromServer('220 mx ESMTP\r\n', t + 1000);
    m.fromClient('AUTH X\x1b[1mY\r\n', t + 2000);
    m.fromServer('535 5.7.8 no\r\n', t + 3000);
    const capture = await fl.write(join(dir, 'esc.pcap'));
    const user = 'root\\x1b[31m\\x9b2J\\u202e';
    const reply = '535 5.7.8 \\x1b[2J\\x1b]0;owned\\x07 denied';

    const replay = run(['replay', capture]);
    assert.equal(replay.status, 0, replay.stderr);
    assert.doesNotMatch(replay.stdout, RAW_CONTROL);
    assert.ok(replay.stdout.includes(`198.51.100.66: 1 failure, 0 successes, 0 temporary failures; users: ${user}\n`), replay.stdout);
    assert.ok(replay.stdout.includes(`  LOGIN user ${user}  "${reply}"\n`), replay.stdout);
    assert.ok(replay.stdout.includes('  X\\x1b[1MY  "535 5.7.8 no"\n'), replay.stdout);

    const dump = run(['dump', '-r', capture]);
    assert.equal(dump.status, 0, dump.stderr);
    assert.doesNotMatch(dump.stdout, RAW_CONTROL);
    assert.ok(dump.stdout.includes(`    C: <username: ${user}>\n`), dump.stdout);
    assert.ok(dump.stdout.includes(`    S: ${reply}\n`), dump.stdout);
    assert.ok(dump.stdout.includes(`    >> STRIKE 1/3 198.51.100.66 (535, LOGIN ${user})\n`), dump.stdout);
    assert.ok(dump.stdout.includes('    C: AUTH X\\x1b[1MY\n'), dump.stdout);
    assert.ok(dump.stdout.includes('    >> STRIKE 1/3 198.51.100.67 (535, X\\x1b[1MY)\n'), dump.stdout);

    const log = join(dir, 'mail.log');
    writeFileSync(
      log,
      Buffer.from(
        [
          'Feb 13 00:01:02 mail.example.com postfix/submission/smtpd[2001]: 4F1A2B3C01: client=unknown[192.0.2.7], sasl_method=PLAIN, sasl_username=evil\x1b]0;x\x07\x1b[2J\xc2\x9b\xe2\x80\xae',
          'Feb 13 00:02:02 mail.example.com postfix/smtpd[1990]: warning: unknown[192.0.2.8]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bad\x1b[2J',
          '',
        ].join('\n'),
        'latin1',
      ),
    );
    const evil = 'evil\\x1b]0;x\\x07\\x1b[2J\\x9b\\u202e';
    const accounts = run(['accounts', '-c', '/dev/null', '-g', '0', '-l', '0', '--year', '2026', '--tz', 'UTC', log]);
    assert.equal(accounts.status, 0, accounts.stderr);
    assert.equal(accounts.stdout, `Feb 13 -> account ${evil}: 1 IP (Last: 192.0.2.7 @ 00:01:02)\n    1  192.0.2.7\n`);

    const report = run([
      'report',
      '--no-state',
      '-q',
      '-c',
      '/dev/null',
      '-g',
      '0',
      '-l',
      '0',
      '--tz',
      'UTC',
      '--log-tz',
      'UTC',
      '--log-year',
      '2026',
      log,
      capture,
    ]);
    assert.equal(report.status, 0, report.stderr);
    assert.doesNotMatch(report.stdout, RAW_CONTROL);
    assert.ok(report.stdout.includes(`Feb 13 -> account ${evil}: 1 IP (Last: 192.0.2.7 @ Feb 13 00:01:02)`), report.stdout);
    assert.ok(report.stdout.includes('accounts: bad\\x1b[2J'), report.stdout);
    assert.ok(report.stdout.includes(`accounts: ${user}`), report.stdout);
    // JSON keeps the log's text as it was (JSON escapes control characters itself).
    const json = run(['accounts', '-c', '/dev/null', '-g', '0', '-l', '0', '--year', '2026', '--tz', 'UTC', '--json', log]);
    assert.equal((JSON.parse(json.stdout.split('\n')[0]!) as { user: string }).user, 'evil\x1b]0;x\x07\x1b[2J\u009b\u202e');
  } finally {
    cleanup();
  }
});

const HAVE_TCPDUMP = spawnSync('tcpdump', ['--version']).status === 0;

test('dump with a filter reads gzip on stdin and from <(…) too (fed to tcpdump by us)', { skip: !HAVE_TCPDUMP && 'tcpdump not installed' }, () => {
  const cli = `"${process.execPath}" "${CLI}"`;
  const want = run(['dump', '-r', GAP, 'src', 'host', '192.0.2.25']);
  assert.equal(want.status, 0, want.stderr);
  assert.ok(want.stdout.length > 0);
  for (const script of [
    `gzip -c ${GAP} | ${cli} dump -r - src host 192.0.2.25`,
    `${cli} dump -r <(gzip -c ${GAP}) src host 192.0.2.25`,
    `${cli} dump -r <(cat ${GAP}) src host 192.0.2.25`,
  ]) {
    const r = bash(script);
    assert.equal(r.status, 0, `${script}: ${r.stderr}`);
    assert.equal(r.stdout, want.stdout, script);
  }
});
