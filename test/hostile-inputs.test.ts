/**
 * Hostile and odd inputs (issue 9): timestamps no date can show, a corrupt record under `dump`,
 * directories and FIFOs among the inputs, control characters in names and replies, a "log" that
 * never ends a line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, smtpstrike } from './support/cli.js';
import { FrameList, tempDir } from './support/synth.js';

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
  const stamps = dump.stdout.split('\n').filter((l) => /^\S/.test(l)).map((l) => l.split(' ')[0]!);
  assert.equal(stamps.length, 42);
  assert.equal(stamps.filter((s) => s === '[timestamp').length, 17);
  assert.ok(stamps.every((s) => s === '[timestamp' || /^10:00:00\.\d{6}$/.test(s)), stamps.join(' '));
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
    assert.equal(shipped.stderr, 'smtpstrike: pcaps/crafted/broken-caplen.pcap: record claims a 2147483647-byte packet (more than 262144) at byte offset 828\n');
  } finally {
    cleanup();
  }
});
