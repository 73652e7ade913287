/**
 * `smtpstrike report` end to end with real parts: scripts/testbed/make-report-fixtures.sh runs the
 * scenario anew (a Postfix + Dovecot server in network namespaces made for this run, swaks clients,
 * a live tcpdump capture and the server's own logs, the server in UTC+05:30), writes the run's
 * ground truth, and the fresh capture and logs are reported on and checked against it — the same
 * checks as the committed fixture's (test/report-fixtures.test.ts). Needs root; says SKIPPED
 * loudly otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportDoc } from '../src/report/report-doc.js';
import { checkVerdicts, type VerdictTruth } from './support/verdict-truth.js';
import { checkTruth } from './support/truth.js';

// (test files are not imported from one another: node --test would run the other file's tests here too)
function loadTruth(dir: string): VerdictTruth {
  return JSON.parse(readFileSync(join(dir, 'report.verdicts.json'), 'utf8')) as VerdictTruth;
}

function fixtureArgs(dir: string, t: VerdictTruth): string[] {
  return [...t.captures.map((c) => join(dir, c)), ...t.logs.map((l) => join(dir, l))];
}

function runReport(args: string[]): { status: number | null; stderr: string; doc: ReportDoc | null } {
  const r = spawnSync(process.execPath, ['dist/src/cli.js', 'report', '-c', '/dev/null', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { status: r.status, stderr: r.stderr, doc: r.status === 0 ? (JSON.parse(r.stdout) as ReportDoc) : null };
}

const isRoot = process.getuid?.() === 0;

test('report e2e: a fresh test-bed run (capture + logs, server in UTC+05:30) gives the verdicts of its ground truth', { timeout: 600_000 }, (t) => {
  if (!isRoot) {
    process.stderr.write('SKIPPED LOUDLY: report-e2e needs root (network namespaces, packet capture); run npm test as root\n');
    t.skip('needs root');
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'smtpstrike-report-e2e-'));
  try {
    const r = spawnSync('bash', ['scripts/testbed/make-report-fixtures.sh'], {
      encoding: 'utf8',
      env: { ...process.env, OUT: out, TB_PREFIX: `sstr${process.pid % 100000}` },
      timeout: 540_000,
    });
    assert.equal(r.status, 0, `make-report-fixtures.sh failed:\n${r.stderr.slice(-3000)}`);
    checkTruth(join(out, 'report.truth.json'));
    const truth = loadTruth(out);
    const rep = runReport(['--json', '-g', '0', '--no-state', ...fixtureArgs(out, truth)]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.deepEqual(checkVerdicts(rep.doc!, truth), []);
    assert.equal(rep.doc!.clock.log_tz, truth.server_tz, 'the log zone estimated against the wire');
    const given = runReport(['--json', '-g', '0', '--no-state', '--log-tz', truth.server_tz, ...fixtureArgs(out, truth)]);
    assert.deepEqual(checkVerdicts(given.doc!, truth), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
