/**
 * The fast `accounts` path (ASCII chunks as latin1, per-line dispatch without batches, one reused
 * event: native-notes/accounts.md "Speed") prints exactly what the code before it printed. The
 * hashes were taken with the previous build (commit d4642a6) on the same generated logs; the
 * `run` timings of the summary are left out, and the file is named by a relative path.
 * Also: the reused-event scan gives the same events as the batch API (parseLogs).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateEximLog, generateMixedLog } from '../bench/logs.js';
import { LogScanner, parseLogs } from '../src/accounts/parse-logs.js';
import { LineSplitter } from '../src/accounts/reader.js';
import { accountsJson } from './support/accounts-json.js';

function outputHash(dir: string, name: string, extra: string[] = []): string {
  const { body, summary } = accountsJson(dir, name, extra);
  return createHash('sha256')
    .update(body.join('\n') + '\n' + JSON.stringify(summary))
    .digest('hex');
}

// Taken with the build before the speed work (same generator, same seed, same lines).
const EXPECTED = {
  mixed: '2702677f792a2616d2851d2b13174eda049b17ffe2f68716b56f598d6e5927ec',
  mixedL0: 'b645bf5866dbdbb39a3db6a47fe6a91121021b8715139c1f54ed1222237a1d64',
  exim: 'ee2e80ca343a9cff80630892b2c327c09473d071f148a0c2e8958fe985f923ee',
};

test('accounts --json on a generated 30,000-line mixed log and an Exim main log: same output as before the speed work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-speed-'));
  try {
    generateMixedLog(join(dir, 'mixed.log'), 30_000, 7);
    generateEximLog(join(dir, 'exim.log'), 30_000, 7);
    assert.equal(outputHash(dir, 'mixed.log'), EXPECTED.mixed);
    assert.equal(outputHash(dir, 'mixed.log', ['-l', '0']), EXPECTED.mixedL0);
    assert.equal(outputHash(dir, 'exim.log', ['-l', '0']), EXPECTED.exim);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scanFile with a reused event sees the same events as parseLogs (batches)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-speed-'));
  try {
    const file = join(dir, 'mixed.log');
    generateMixedLog(file, 20_000, 3);
    const opts = { tz: 'UTC', year: 2023, intern: false } as const;
    const a: string[] = [];
    const ca = await new LogScanner(opts).scanFile(file, (e) => a.push(JSON.stringify({ ...e, count: e.count ?? 1 })), true);
    const b: string[] = [];
    const scan = parseLogs([file], opts);
    for await (const e of scan) b.push(JSON.stringify({ ...e, count: e.count ?? 1 }));
    assert.equal(a.length, b.length);
    assert.deepEqual(a, b);
    assert.deepEqual(ca, scan.counters[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LineSplitter: any cut of any bytes gives the lines of one whole UTF-8 decode (latin1 fast path, carried lines)', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const pieces = ['a', 'Feb 13 00:15:16 host sshd[1]: x', '\n', '\r\n', '\r', 'é', '€', '😀', ' ', '\n\n', '\xff'];
  for (let round = 0; round < 300; round++) {
    let text = '';
    const n = 1 + rnd(60);
    for (let i = 0; i < n; i++) text += pieces[rnd(pieces.length)];
    // Raw bytes, sometimes with invalid UTF-8 (a lone continuation byte, a cut sequence).
    let bytes = Buffer.from(text, 'utf8');
    if (rnd(4) === 0) bytes = Buffer.concat([bytes, Buffer.from([0xe2, 0x82]), Buffer.from('\nend')]);
    const expected = bytes
      .toString('utf8')
      .split('\n')
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    if (expected[expected.length - 1] === '') expected.pop();
    const got: string[] = [];
    const sp = new LineSplitter();
    for (let o = 0; o < bytes.length;) {
      const len = 1 + rnd(8);
      sp.push(bytes.subarray(o, o + len), (l) => got.push(l));
      o += len;
    }
    sp.end((l) => got.push(l));
    assert.deepEqual(got, expected, JSON.stringify(text));
  }
});
