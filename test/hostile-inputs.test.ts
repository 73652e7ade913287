/**
 * Hostile and odd inputs (issue 9): timestamps no date can show, a corrupt record under `dump`,
 * directories and FIFOs among the inputs, control characters in names and replies, a "log" that
 * never ends a line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI, smtpstrike } from './support/cli.js';

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
