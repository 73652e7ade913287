/**
 * End to end with real parts: a Postfix + Dovecot SASL server and swaks clients in network
 * namespaces made for this run, captured live with tcpdump (libpcap); the captures are replayed and
 * compared with the ground truth the run derived from swaks's own transcripts (itself cross-checked
 * against tshark by make-captures.sh). Needs root; says SKIPPED loudly otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTruth, truthFiles } from './support/truth.js';

const isRoot = process.getuid?.() === 0;

test('test bed: fresh live captures of a real Postfix + Dovecot server match their ground truth', { timeout: 600_000 }, (t) => {
  if (!isRoot) {
    process.stderr.write('SKIPPED LOUDLY: testbed-e2e needs root (network namespaces, packet capture); run npm test as root\n');
    t.skip('needs root');
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'smtpstrike-e2e-'));
  try {
    const r = spawnSync('bash', ['scripts/testbed/make-captures.sh'], {
      encoding: 'utf8',
      env: { ...process.env, OUT: out, TB_PREFIX: `sste2e${process.pid % 10000}` },
      timeout: 540_000,
    });
    assert.equal(r.status, 0, `make-captures.sh failed:\n${r.stderr.slice(-3000)}`);
    const truths = truthFiles(out);
    assert.ok(truths.length >= 8, `fresh captures written (${truths.length})`);
    for (const tf of truths) checkTruth(tf);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
