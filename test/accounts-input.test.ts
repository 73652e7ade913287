/**
 * Reading logs (src/accounts/reader.ts, parse-logs.ts): compressed input recognised by content
 * (gzip, bzip2, xz, zstd), chunk boundaries (multi-byte characters, CRLF, no final newline),
 * unreadable and truncated files, the year guess, the `parseLogs` API, and the copied
 * third-party samples (test/fixtures/third-party).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { LogScanner, parseLine, parseLogs } from '../src/accounts/parse-logs.js';
import { detectCompression, LineSplitter } from '../src/accounts/reader.js';
import { candidateLogs, defaultLogs } from '../src/accounts/default-logs.js';
import type { AuthLogEvent } from '../src/accounts/types.js';

const COMPRESSED = 'test/fixtures/accounts/compressed';

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-in-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('input: gzip, bzip2, xz and zstd are recognised by their bytes, not the name', async () => {
  const want = { lines: 12, successes: 7, failures: 2, ignored: 3, unparseable: 0 };
  for (const [file, comp] of [
    ['mail.log.gz', 'gzip'],
    ['mail.log.bz2', 'bzip2'],
    ['mail.log.xz', 'xz'],
    ['mail.log.zst', 'zstd'],
    ['mail.log.1', 'gzip'],
  ] as const) {
    const evs: AuthLogEvent[] = [];
    const c = await new LogScanner({ tz: 'UTC', year: 2023 }).scanFile(join(COMPRESSED, file), (e) => evs.push(e));
    assert.equal(c.compression, comp, file);
    assert.equal(c.error, undefined, c.error);
    assert.deepEqual({ lines: c.lines, successes: c.successes, failures: c.failures, ignored: c.ignored, unparseable: c.unparseable }, want, file);
    assert.deepEqual(
      evs.map((e) => e.line),
      [2, 3, 5, 6, 8, 9, 10, 11, 12],
      file,
    );
  }
  assert.equal(detectCompression(Buffer.from('Feb 13 00:00:00 host x: y')), 'none');
});

test('input: a plain file named .gz, a gzip file of several members, an empty file', async () => {
  const t = tmp();
  try {
    const plain = join(t.dir, 'plain.gz');
    writeFileSync(plain, readFileSync('test/fixtures/accounts/seed/auth.log'));
    const multi = join(t.dir, 'multi.log');
    const text = readFileSync('test/fixtures/accounts/seed/auth.log');
    writeFileSync(multi, Buffer.concat([gzipSync(text.subarray(0, 100)), gzipSync(text.subarray(100))]));
    const empty = join(t.dir, 'empty.log');
    writeFileSync(empty, '');
    const s = new LogScanner({ tz: 'UTC', year: 2023 });
    const a = await s.scanFile(plain, () => undefined);
    const b = await s.scanFile(multi, () => undefined);
    const e = await s.scanFile(empty, () => undefined);
    assert.deepEqual([a.compression, a.lines, a.successes, a.failures], ['none', 4, 2, 1]);
    assert.deepEqual([b.compression, b.lines, b.successes, b.failures], ['gzip', 4, 2, 1]);
    assert.deepEqual([e.lines, e.error], [0, undefined]);
  } finally {
    t.done();
  }
});

test('input: a truncated or corrupt compressed file is an error in its counters; what was read counts', async () => {
  const t = tmp();
  try {
    const big =
      Array.from(
        { length: 20000 },
        (_, i) => `Feb 13 00:00:${String(i % 60).padStart(2, '0')} gw sshd[${i}]: Accepted password for u${i} from 198.51.100.${i % 250} port 1 ssh2`,
      ).join('\n') + '\n';
    const gz = gzipSync(big);
    const cut = join(t.dir, 'cut.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const bad = join(t.dir, 'bad.bz2');
    writeFileSync(bad, Buffer.concat([Buffer.from('BZh9'), Buffer.alloc(5000, 7)]));
    const s = new LogScanner({ tz: 'UTC', year: 2023 });
    let n = 0;
    const c = await s.scanFile(cut, () => n++);
    assert.match(c.error ?? '', /cut\.gz/);
    assert.ok(c.successes > 1000 && c.successes < 20000, String(c.successes));
    assert.equal(n, c.successes);
    const d = await s.scanFile(bad, () => undefined);
    assert.match(d.error ?? '', /bzip2/);
    const missing = await s.scanFile(join(t.dir, 'nope.log'), () => undefined);
    assert.equal(missing.error, `${join(t.dir, 'nope.log')}: no such file`);
    const dir = await s.scanFile(t.dir, () => undefined);
    assert.match(dir.error ?? '', /is a directory/);
  } finally {
    t.done();
  }
});

test('input: lines split at every byte — multi-byte users, CRLF, no final newline', () => {
  const text =
    'Feb 13 00:00:01 gw sshd[1]: Accepted password for žofie from 198.51.100.1 port 1 ssh2\r\n' +
    'Feb 13 00:00:02 gw sshd[1]: Accepted password for 日本 from 198.51.100.2 port 1 ssh2\n\n' +
    'Feb 13 00:00:03 gw sshd[1]: Accepted password for last from 198.51.100.3 port 1 ssh2';
  const bytes = Buffer.from(text, 'utf8');
  const want = text.split(/\r?\n/);
  for (let cut1 = 1; cut1 < bytes.length; cut1 += 7) {
    for (const cut2 of [cut1 + 1, cut1 + 3, bytes.length - 1]) {
      if (cut2 <= cut1 || cut2 >= bytes.length) continue;
      const got: string[] = [];
      const sp = new LineSplitter();
      for (const part of [bytes.subarray(0, cut1), bytes.subarray(cut1, cut2), bytes.subarray(cut2)]) sp.push(part, (l) => got.push(l));
      sp.end((l) => got.push(l));
      assert.deepEqual(got, want, `cuts ${cut1}/${cut2}`);
    }
  }
  assert.equal(parseLine(want[0]!, { tz: 'UTC', year: 2023 }).event?.user, 'žofie');
  assert.equal(parseLine(want[1]!, { tz: 'UTC', year: 2023 }).event?.user, '日本');
});

test('input: a chunk larger than one decoded piece (120,000 bytes) gives the same lines, numbered in order', () => {
  // Lines of every length up to the longest allowed (64 KiB), empty ones, CRLF, multi-byte
  // characters: every piece boundary falls somewhere different; the lines are what a split gives.
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 3_500_000; i++) {
    const len = i % 97 === 0 ? 64 * 1024 - 10 : (i * 7919) % 1500;
    const body = (i % 5 === 0 ? 'ž' : 'a').repeat(i % 5 === 0 ? Math.floor(len / 2) : len);
    const line = i % 13 === 0 ? '' : `${i} ${body}`;
    lines.push(line);
    size += Buffer.byteLength(line) + (i % 3 === 0 ? 2 : 1);
  }
  const text = lines.map((l, i) => l + (i % 3 === 0 ? '\r\n' : '\n')).join('');
  const bytes = Buffer.from(text, 'utf8');
  for (const chunk of [1 << 20, 300_000, bytes.length]) {
    const got: string[] = [];
    const nos: number[] = [];
    const sp = new LineSplitter();
    for (let at = 0; at < bytes.length; at += chunk)
      sp.push(bytes.subarray(at, Math.min(at + chunk, bytes.length)), (l, no) => {
        got.push(l);
        nos.push(no);
      });
    sp.end((l) => got.push(l));
    assert.equal(got.length, lines.length, `chunk ${chunk}`);
    assert.ok(
      got.every((l, i) => l === lines[i]),
      `chunk ${chunk}: line ${got.findIndex((l, i) => l !== lines[i]) + 1} differs`,
    );
    assert.ok(
      nos.every((n, i) => n === i + 1),
      `chunk ${chunk}: line numbers in order`,
    );
  }
});

test('input: classic syslog years are guessed from the file time — a December log read in January', async () => {
  const t = tmp();
  try {
    const f = join(t.dir, 'auth.log.1');
    writeFileSync(
      f,
      'Dec 31 23:59:59 gw sshd[1]: Accepted password for a from 198.51.100.1 port 1 ssh2\nJan  1 00:00:01 gw sshd[1]: Accepted password for b from 198.51.100.2 port 1 ssh2\n',
    );
    const mtime = new Date(Date.UTC(2024, 0, 1, 6, 25, 0));
    utimesSync(f, mtime, mtime);
    const evs: AuthLogEvent[] = [];
    await new LogScanner({ tz: 'UTC' }).scanFile(f, (e) => evs.push(e));
    assert.deepEqual(
      evs.map((e) => new Date(e.ts * 1000).toISOString()),
      ['2023-12-31T23:59:59.000Z', '2024-01-01T00:00:01.000Z'],
    );
    assert.ok(evs.every((e) => e.tsGuessed));
    const fixed: AuthLogEvent[] = [];
    await new LogScanner({ tz: '+01:00', year: 2020 }).scanFile(f, (e) => fixed.push(e));
    assert.equal(new Date(fixed[1]!.ts * 1000).toISOString(), '2019-12-31T23:00:01.000Z');
  } finally {
    t.done();
  }
});

test('input: parseLogs — events of several files in order, counters per file', async () => {
  const files = ['test/fixtures/accounts/seed/auth.log', 'test/fixtures/accounts/compressed/mail.log.xz', 'test/fixtures/accounts/seed/missing.log'];
  const scan = parseLogs(files, { mode: ['ssh', 'dovecot'], tz: 'UTC', year: 2023 });
  const evs: AuthLogEvent[] = [];
  for await (const e of scan) evs.push(e);
  assert.deepEqual(
    evs.map((e) => `${e.file.split('/').pop()}:${e.line}:${e.service}:${e.outcome}`),
    [
      'auth.log:1:ssh:success',
      'auth.log:2:ssh:success',
      'auth.log:4:ssh:failure',
      'mail.log.xz:5:dovecot:success',
      'mail.log.xz:6:dovecot:success',
      'mail.log.xz:8:dovecot:success',
      'mail.log.xz:9:dovecot:failure',
      'mail.log.xz:10:dovecot:success',
      'mail.log.xz:11:dovecot:success',
      'mail.log.xz:12:dovecot:success',
    ],
  );
  assert.deepEqual(
    scan.counters.map((c) => [c.lines, c.successes, c.failures, c.error === undefined]),
    [
      [4, 2, 1, true],
      [12, 6, 1, true],
      [0, 0, 0, false],
    ],
  );
  const e = evs[0]!;
  assert.deepEqual(
    { ...e },
    {
      ts: Date.UTC(2023, 1, 14, 9, 0, 0) / 1000,
      tsGuessed: true,
      service: 'ssh',
      outcome: 'success',
      user: 'jana',
      ip: '81.2.69.160',
      method: 'publickey',
      reason: undefined,
      line: 1,
      file: 'test/fixtures/accounts/seed/auth.log',
    },
  );
});

test('input: default log paths per mode', () => {
  assert.deepEqual(candidateLogs('exim'), ['/var/log/exim4/mainlog', '/var/log/exim/main.log', '/var/log/exim/mainlog']);
  assert.ok(candidateLogs('all').includes('/var/log/apache2/access.log'));
  assert.equal(candidateLogs('all').filter((f) => f === '/var/log/mail.log').length, 1);
  assert.deepEqual(
    defaultLogs('dovecot', (f) => f === '/var/log/mail.log' || f === '/var/log/dovecot.log'),
    ['/var/log/mail.log', '/var/log/dovecot.log'],
  );
  assert.deepEqual(
    defaultLogs('ssh', () => false),
    [],
  );
});

test('input: the copied CrowdSec and SSHGuard samples (test/fixtures/third-party)', async () => {
  const dir = 'test/fixtures/third-party';
  const s = new LogScanner({ tz: 'UTC', year: 2023 });
  const counts = async (f: string): Promise<[number, number]> => {
    const c = await s.scanFile(join(dir, f), () => undefined);
    return [c.successes, c.failures];
  };
  assert.deepEqual(await counts('crowdsec-hub/sshd-success-logs--sshd-success-logs.log'), [4, 0]);
  assert.deepEqual(await counts('crowdsec-hub/sshd-impossible-travel--sshd-success-logs.log'), [2, 0]);
  assert.deepEqual(await counts('crowdsec-hub/dovecot-logs--dovecot-logs.log'), [1, 13]);
  assert.deepEqual(await counts('crowdsec-hub/exim-logs--exim-logs.log'), [0, 6]);
  assert.deepEqual(await counts('crowdsec-hub/postfix-sasl-bf--postfix-sasl-bf.log'), [0, 3]);
  // SSHGuard's vectors: every failure we find is one of its attacks from the same address.
  const lines = readFileSync(join(dir, 'sshguard/tests.txt'), 'utf8').split('\n');
  let n = 0;
  for (let i = 0; i + 2 < lines.length; i++) {
    if (lines[i + 2] !== 'M' || lines[i] === 'M') continue;
    const ev = parseLine(lines[i]!, { tz: 'UTC', year: 2023 }).event;
    if (ev?.outcome === 'failure') {
      assert.equal(ev.ip, lines[i + 1]!.split(' ')[1], lines[i]);
      n++;
    }
  }
  assert.equal(n, 16);
});

test('input: files made by the bzip2, xz and zstd tools, concatenated streams included (skipped loudly without the tools)', async (t) => {
  const tools = ['bzip2', 'xz', 'zstd'].filter((x) => spawnSync('sh', ['-c', `command -v ${x}`]).status === 0);
  if (tools.length < 3) {
    process.stderr.write(
      `SKIPPED LOUDLY: missing ${['bzip2', 'xz', 'zstd'].filter((x) => !tools.includes(x)).join(', ')} (scripts/install-deps.sh accounts)\n`,
    );
    t.skip('compression tools missing');
    return;
  }
  const d = tmp();
  try {
    const a = readFileSync('test/fixtures/accounts/seed/mail.log');
    const b = readFileSync('test/fixtures/accounts/seed/auth.log');
    for (const [tool, args] of [
      ['bzip2', ['-c']],
      ['xz', ['-c']],
      ['zstd', ['-q', '-c']],
    ] as const) {
      const one = (buf: Buffer): Buffer => spawnSync(tool, [...args], { input: buf }).stdout;
      const f = join(d.dir, `both.${tool}`);
      writeFileSync(f, Buffer.concat([one(a), one(b)]));
      const c = await new LogScanner({ tz: 'UTC', year: 2023 }).scanFile(f, () => undefined);
      assert.equal(c.error, undefined, `${tool}: ${c.error}`);
      assert.deepEqual([c.lines, c.successes, c.failures], [16, 9, 3], tool);
    }
  } finally {
    d.done();
  }
});
