/**
 * `smtpstrike report` on a real test-bed run (pcaps/report: a capture and the server's own logs of
 * the same run, made by scripts/testbed/make-report-fixtures.sh), through the CLI, against the
 * run's ground truth (report.verdicts.json): the compromised account only the join finds (failures
 * on the wire, the login only in the log, inside STARTTLS), the distributed attack, the attacked
 * and blocked address, the account used from two addresses, the blind spots — and the time
 * alignment (the server logged in UTC+05:30, without zone or year).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportDoc } from '../src/report/report-doc.js';
import { checkVerdicts, type VerdictTruth } from './support/verdict-truth.js';

const CLI = 'dist/src/cli.js';
const DIR = 'pcaps/report';

function loadTruth(dir: string): VerdictTruth {
  return JSON.parse(readFileSync(join(dir, 'report.verdicts.json'), 'utf8')) as VerdictTruth;
}

function runReport(args: string[]): { status: number | null; stdout: string; stderr: string; doc: ReportDoc | null } {
  const r = spawnSync(process.execPath, [CLI, 'report', '-c', '/dev/null', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    maxBuffer: 64 << 20,
  });
  let doc: ReportDoc | null = null;
  if (args.includes('--json') && r.status !== null && r.stdout.trim()) doc = JSON.parse(r.stdout) as ReportDoc;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, doc };
}

function fixtureArgs(dir: string, t: VerdictTruth): string[] {
  return [...t.captures.map((c) => join(dir, c)), ...t.logs.map((l) => join(dir, l))];
}

const truth = loadTruth(DIR);
const ALL = fixtureArgs(DIR, truth);

test('fixture: the verdicts equal the ground truth (log zone estimated against the wire)', () => {
  const r = runReport(['--json', '-g', '0', ...ALL]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.doc);
  assert.deepEqual(checkVerdicts(r.doc, truth), []);
  // Time alignment: the server wrote its local time (UTC+05:30), no zone, no year; the report
  // placed it on the capture's clock and said so.
  assert.equal(r.doc.clock.log_tz_source, 'estimated');
  assert.equal(r.doc.clock.log_tz, truth.server_tz);
  assert.equal(r.doc.clock.log_year_source, 'wire');
  assert.match(r.stderr, /log timestamps carry no zone: placed at UTC\+05:30/);
  assert.match(r.stderr, /log timestamps carry no year/);
  // One attempt seen on both sides is one attempt: the .2 brute force is 7 attempts, not 13.
  assert.equal(r.doc.totals.failures.all, 17);
  assert.equal(r.doc.totals.failures.both, 15);
  // Postfix's SASL line and Dovecot's passdb line of one attempt are one attempt too.
  assert.equal(r.doc.clock.backend_lines_merged, 16);
});

test('fixture: --log-tz and --log-year given: the same verdicts, no guess announced', () => {
  const year = runReport(['--json', '-g', '0', '-q', ...ALL]).doc!.clock.log_year!;
  const r = runReport(['--json', '-g', '0', '--log-tz', truth.server_tz, '--log-year', String(year), ...ALL]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(checkVerdicts(r.doc!, truth), []);
  assert.equal(r.doc!.clock.log_tz_source, 'option');
  assert.equal(r.stderr, '');
});

test('fixture: with the wrong log zone the join falls apart (every attempt counted twice), which is why alignment matters', () => {
  const r = runReport(['--json', '-g', '0', '--log-tz', 'UTC', ...ALL]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.doc!.totals.failures.both, 0);
  assert.ok(r.doc!.totals.failures.all >= 30, `failures counted twice: ${r.doc!.totals.failures.all}`);
  assert.ok(
    !r.doc!.verdicts.some((v) => v.verdict === 'COMPROMISED' && v.addresses.some((a) => a.success_inside_tls)),
    'the login is no longer tied to the TLS session',
  );
});

test('fixture: the compromised account is found only by the join (replay alone: no login; accounts alone: nothing)', () => {
  const c = truth.compromised[0]!;
  // The wire alone: two failures, no login (it happened inside TLS).
  const rp = spawnSync(process.execPath, [CLI, 'replay', '--json', '--summary-only', join(DIR, truth.captures[0]!)], { encoding: 'utf8' });
  const sum = JSON.parse(rp.stdout.trim().split('\n').pop()!) as {
    clients: Record<string, { failures: number; successes: number }>;
    coverage: { opaque_flows: number };
  };
  assert.equal(sum.clients[c.address]!.successes, 0);
  assert.equal(sum.clients[c.address]!.failures, c.failures_before);
  // The logs alone, the accounts way: one login for alice from one address is nothing to list.
  const acc = spawnSync(process.execPath, [CLI, 'accounts', '-c', '/dev/null', '-g', '0', '--tz', truth.server_tz, ...truth.logs.map((l) => join(DIR, l))], {
    encoding: 'utf8',
  });
  assert.equal(acc.status, 0, acc.stderr);
  assert.doesNotMatch(acc.stdout, new RegExp(`account ${c.account}\\b`));
  // Logs that lack the failure lines (filtered, lost, another server's): the wire supplies them.
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-report-'));
  try {
    const logs = truth.logs.map((l) => {
      const text = readFileSync(join(DIR, l), 'utf8')
        .split('\n')
        .filter((x) => !/authentication failed|Password mismatch|unknown user/.test(x))
        .join('\n');
      const f = join(dir, l);
      writeFileSync(f, text);
      return f;
    });
    const r = runReport(['--json', '-g', '0', join(DIR, truth.captures[0]!), ...logs]);
    assert.equal(r.status, 0, r.stderr);
    const row = r.doc!.verdicts.find((v) => v.verdict === 'COMPROMISED' && v.account === c.account);
    assert.ok(row && row.verdict === 'COMPROMISED', 'still COMPROMISED');
    const a = row.addresses.find((x) => x.ip === c.address)!;
    assert.equal(a.failures_before_wire_only, c.failures_before, 'the failures come from the wire only');
    assert.equal(a.success_seen, 'log');
    assert.equal(a.success_inside_tls, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fixture: the capture alone — the compromised address looks merely attacked, and the opaque sessions are named as blind spots', () => {
  const r = runReport(['--json', '-g', '0', '--logs', '/dev/null', join(DIR, truth.captures[0]!)]);
  assert.equal(r.status, 0, r.stderr);
  const d = r.doc!;
  assert.ok(!d.verdicts.some((v) => v.verdict === 'COMPROMISED'));
  assert.ok(d.verdicts.some((v) => v.verdict === 'ATTACKED' && v.address === truth.compromised[0]!.address));
  assert.deepEqual(d.blind_spots.opaque_sessions.addresses.map((o) => o.ip).sort(), Object.keys(truth.blind_spots.opaque_sessions).sort());
  assert.equal(d.blind_spots.opaque_sessions.with_log_attempts, 0);
  // The two logins inside STARTTLS (pcaps/report/report.truth.json inside_tls) are inferred from the
  // record sizes and shown here, but not joined: the verdicts above stay those of the clear wire.
  const inside = Object.values(
    (
      JSON.parse(readFileSync(join(DIR, 'report.truth.json'), 'utf8')) as {
        inside_tls: Record<string, { failures: number; successes: number; tempfails: number }>;
      }
    ).inside_tls,
  ).reduce((t, c) => ({ failures: t.failures + c.failures, successes: t.successes + c.successes, tempfails: t.tempfails + c.tempfails }), {
    failures: 0,
    successes: 0,
    tempfails: 0,
  });
  assert.equal(inside.successes, 2);
  assert.deepEqual(d.blind_spots.opaque_sessions.inferred, inside);
  const text = runReport(['-g', '0', '--logs', '/dev/null', join(DIR, truth.captures[0]!)]);
  assert.match(
    text.stdout,
    /inferred inside them from TLS record sizes \(replay and watch count these; not joined with the logs here\): 0 failures, 2 logins, 0 temporary failures/,
  );
});

test('fixture: the logs alone still give the log-side verdicts, and say the wire is missing', () => {
  const r = runReport(['--json', '-g', '0', '--no-state', '--log-tz', truth.server_tz, ...truth.logs.map((l) => join(DIR, l))]);
  assert.equal(r.status, 0, r.stderr);
  const d = r.doc!;
  assert.equal(d.spans.wire, null);
  assert.ok(d.blind_spots.missing.some((m) => /no capture or state file/.test(m)));
  assert.ok(d.verdicts.some((v) => v.verdict === 'DISTRIBUTED' && v.account === truth.distributed[0]!.account));
});

test('fixture: the text report — sections most urgent first, the accounts layout with wire and log counts', () => {
  const r = runReport(['-g', '0', '-q', ...ALL]);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  const order = ['== COMPROMISED', '== SUSPECT', '== DISTRIBUTED', '== ATTACKED', '== BLIND SPOTS'].map((s) => out.indexOf(s));
  assert.ok(
    order.every((i) => i > 0),
    out,
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
  );
  const c = truth.compromised[0]!;
  assert.match(out, new RegExp(`-> account ${c.account}: 1 IP \\(Last: ${c.address.replace(/\./g, '\\.')} @ \\d\\d:\\d\\d:\\d\\d\\)`));
  assert.match(out, /2 failed, then logged in \d\d:\d\d:\d\d \(log only, inside TLS\)\s+10\.200\.0\.5/);
  assert.match(out, /-> account bob: 2 IPs .*\[2 addresses in a day\]/);
  assert.match(out, /-> account admin: 4 IPs, 8 failures/);
  assert.match(out, /\s7\s+6\s+6\s+5\s+10\.200\.0\.2\s+blocked \(auth\)/);
  assert.match(out, /logs only \(no capture\).*1 failure \(10\.200\.0\.2 1\)/);
  assert.match(out, /wire only \(no log\).*1 failure \(10\.200\.0\.2 1\)/);
  assert.equal(r.stderr, '');
});

test('fixture: files are told apart by content, also when named with --capture/--logs', () => {
  const a = runReport(['--json', '-g', '0', '-q', ...ALL]);
  const b = runReport(['--json', '-g', '0', '-q', '--capture', join(DIR, truth.captures[0]!), ...truth.logs.flatMap((l) => ['--logs', join(DIR, l)])]);
  assert.deepEqual(b.doc!.verdicts, a.doc!.verdicts);
  assert.deepEqual(
    a.doc!.inputs.captures.map((c) => c.file),
    [join(DIR, truth.captures[0]!)],
  );
});
