/**
 * `smtpstrike report` on a TLS-only capture (pcaps/tls/tls13-mixed.pcap: every session opaque,
 * what happened inside is in its truth file) with a hand-made Postfix log of the same run, written
 * as Postfix logs it: 10.200.0.3 failed three times, then logged in as bob on 587 and QUIT without
 * a mail — Postfix wrote no `sasl_username=` success line for it, only `disconnect … auth=1/2`.
 * The report must name that address COMPROMISED (account unknown), and its headline must say that
 * the wire saw only opaque sessions and that the log filled the gap. Both day paddings: syslog's
 * `Dec  5` and Postfix's own maillog_file's `Dec 05`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportDoc } from '../src/report/report-doc.js';
import type { CompromisedRow } from '../src/report/report-doc.js';

const CLI = 'dist/src/cli.js';
const PCAP = 'pcaps/tls/tls13-mixed.pcap';

interface Truth {
  inside_tls: Record<string, { failures: number; successes: number; sessions: { users: string[] }[] }>;
}
const truth = JSON.parse(readFileSync('pcaps/tls/tls13-mixed.truth.json', 'utf8')) as Truth;
const LONG = truth.inside_tls['10.200.0.3']!.sessions[0]!.users[1]!;

/** The run as Postfix (in UTC) logs it; `D` is the day as written. */
function postfixLog(D: string): string {
  const sub = (pid: number): string => `mail postfix/submission/smtpd[${pid}]`;
  const smtp = (pid: number): string => `mail postfix/smtpd[${pid}]`;
  const fail = (who: string, ip: string, mech: string, user: string): string =>
    `${who}: warning: unknown[${ip}]: SASL ${mech} authentication failed: (reason unavailable), sasl_username=${user}`;
  return (
    [
      // 10.200.0.2 on 587: two failures, then alice logs in and sends a mail (a sasl_username= line)
      `${D} 01:27:26 ${sub(501)}: connect from unknown[10.200.0.2]`,
      `${D} 01:27:26 ${fail(sub(501), '10.200.0.2', 'LOGIN', 'alice')}`,
      `${D} 01:27:27 ${fail(sub(501), '10.200.0.2', 'LOGIN', 'alice')}`,
      `${D} 01:27:27 ${sub(501)}: 4QK1ZP3b2Vz9sKq: client=unknown[10.200.0.2], sasl_method=LOGIN, sasl_username=alice`,
      `${D} 01:27:27 ${sub(501)}: disconnect from unknown[10.200.0.2] ehlo=2 starttls=1 auth=1/3 mail=1 rcpt=1 data=1 quit=1 commands=8/10`,
      // 10.200.0.3: two failures on 25, one on 587, then a login on 587 and QUIT (no mail)
      `${D} 01:27:27 ${smtp(502)}: connect from unknown[10.200.0.3]`,
      `${D} 01:27:28 ${fail(smtp(502), '10.200.0.3', 'PLAIN', 'a')}`,
      `${D} 01:27:28 ${fail(smtp(502), '10.200.0.3', 'PLAIN', LONG)}`,
      `${D} 01:27:28 ${smtp(502)}: disconnect from unknown[10.200.0.3] ehlo=2 starttls=1 auth=0/2 quit=1 commands=4/6`,
      `${D} 01:27:29 ${sub(501)}: connect from unknown[10.200.0.3]`,
      `${D} 01:27:29 ${fail(sub(501), '10.200.0.3', 'PLAIN', LONG)}`,
      `${D} 01:27:30 ${sub(501)}: disconnect from unknown[10.200.0.3] ehlo=2 starttls=1 auth=1/2 quit=1 commands=5/6`,
      // 10.200.0.4: bob logs in on 587 and sends a mail; a mail without AUTH on 25
      `${D} 01:27:28 ${sub(503)}: connect from unknown[10.200.0.4]`,
      `${D} 01:27:29 ${sub(503)}: 4QK1ZQ0c3Wz9sKr: client=unknown[10.200.0.4], sasl_method=PLAIN, sasl_username=bob`,
      `${D} 01:27:29 ${sub(503)}: disconnect from unknown[10.200.0.4] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8`,
      `${D} 01:27:30 ${smtp(504)}: connect from unknown[10.200.0.4]`,
      `${D} 01:27:30 ${smtp(504)}: 4QK1ZR1d4Xz9sKs: client=unknown[10.200.0.4]`,
      `${D} 01:27:31 ${smtp(504)}: disconnect from unknown[10.200.0.4] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7`,
      // 10.200.0.5 on 25: three accounts tried, no login
      `${D} 01:27:29 ${smtp(505)}: connect from unknown[10.200.0.5]`,
      `${D} 01:27:29 ${fail(smtp(505), '10.200.0.5', 'PLAIN', 'root')}`,
      `${D} 01:27:29 ${fail(smtp(505), '10.200.0.5', 'PLAIN', 'admin')}`,
      `${D} 01:27:30 ${fail(smtp(505), '10.200.0.5', 'PLAIN', 'alice')}`,
      `${D} 01:27:30 ${smtp(505)}: disconnect from unknown[10.200.0.5] ehlo=2 starttls=1 auth=0/3 quit=1 commands=4/7`,
    ].join('\n') + '\n'
  );
}

function report(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, 'report', '-c', '/dev/null', '-g', '0', '--log-tz', 'UTC', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    maxBuffer: 64 << 20,
  });
}

for (const [label, day] of [
  ['syslog, space-padded day', 'Dec  5'],
  ['maillog_file, zero-padded day', 'Dec 05'],
] as const) {
  test(`report, TLS-only capture + Postfix log (${label}): the AUTH-then-QUIT attacker is COMPROMISED; the headline says the log filled the gap`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'report-auth-quit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'mail.log');
    writeFileSync(log, postfixLog(day));

    const r = report(['--json', PCAP, log]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ReportDoc;
    assert.deepEqual(
      doc.inputs.logs.map((c) => [c.successes, c.failures, c.tempfails, c.unparseable]),
      [[3, 8, 0, 0]],
    );

    const comp = doc.verdicts.filter((v): v is CompromisedRow => v.verdict === 'COMPROMISED');
    const byAddress = comp.find((v) => v.subject === 'address');
    assert.ok(byAddress, JSON.stringify(comp));
    assert.equal(byAddress.address, '10.200.0.3');
    assert.equal(byAddress.account, null);
    const e = byAddress.addresses[0]!;
    assert.deepEqual([e.ip, e.failures_before, e.failures_before_log_only, e.success_seen, e.success_inside_tls], ['10.200.0.3', 3, 3, 'log', true]);
    assert.deepEqual(e.users_tried, ['a', LONG].sort());
    // alice at 10.200.0.2: failures, then a login the sasl_username= line names (counted once, not again from auth=1/3)
    const alice = comp.find((v) => v.account === 'alice');
    assert.ok(alice);
    assert.deepEqual(
      alice.addresses.map((a) => [a.ip, a.failures_before, a.successes]),
      [['10.200.0.2', 2, 1]],
    );
    assert.equal(comp.length, 2);

    // Every attempt inside TLS, as the capture's truth says, and none counted twice.
    const want = Object.values(truth.inside_tls).reduce((a, v) => [a[0]! + v.failures, a[1]! + v.successes], [0, 0]);
    assert.deepEqual([doc.totals.failures.all, doc.totals.successes.all, doc.totals.inside_tls], [want[0], want[1], want[0]! + want[1]!]);

    const o = doc.blind_spots.opaque_sessions;
    assert.deepEqual([o.total, o.smtp_sessions, o.mostly_opaque, o.with_log_attempts], [6, 6, true, 4]);
    assert.deepEqual(o.log_attempts_inside, { failures: 8, successes: 3, tempfails: 0 });

    const text = report([PCAP, log]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /WARNING: 6 of 6 captured sessions \(100%\) went opaque \(STARTTLS\/TLS\).*the logs filled the gap: 11 attempts inside them \(8 failures, 3 logins\) from 4 addresses/,
    );
    assert.match(text.stdout, /address 10\.200\.0\.3 \(username unknown\)/);
  });
}

test('report, TLS-only capture without logs: the headline says the wire saw only opaque sessions and asks for the log', () => {
  const r = report([PCAP]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /WARNING: 6 of 6 captured sessions \(100%\) went opaque \(STARTTLS\/TLS\).*give the server's mail log/);
});

test('report on a real TLS-only run (pcaps/report-tls): the credential checker 10.217.0.3 (4 failures, auth=1/5, no mail) is COMPROMISED; 3 of 3 sessions opaque, the log filled the gap', () => {
  const dir = 'pcaps/report-tls';
  const r = report(['--json', join(dir, 'report-tls.pcap'), join(dir, 'postfix.log'), join(dir, 'dovecot.log')]);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as ReportDoc;
  const comp = doc.verdicts.filter((v): v is CompromisedRow => v.verdict === 'COMPROMISED');
  assert.deepEqual(
    comp.map((v) => [v.subject, v.address, v.account]),
    [['address', '10.217.0.3', null]],
  );
  const e = comp[0]!.addresses[0]!;
  assert.deepEqual([e.failures_before, e.failures_before_log_only, e.success_seen, e.success_inside_tls, e.users_tried], [4, 4, 'log', true, ['alice']]);
  assert.deepEqual(
    doc.verdicts.filter((v) => v.verdict === 'ATTACKED').map((v) => v.verdict === 'ATTACKED' && v.address),
    ['10.217.0.5'],
  );
  assert.deepEqual([doc.totals.failures.all, doc.totals.successes.all, doc.totals.inside_tls], [8, 2, 10]);
  const o = doc.blind_spots.opaque_sessions;
  assert.deepEqual([o.total, o.smtp_sessions, o.mostly_opaque], [3, 3, true]);
  assert.deepEqual(o.log_attempts_inside, { failures: 8, successes: 2, tempfails: 0 });
  const text = report([join(dir, 'report-tls.pcap'), join(dir, 'postfix.log'), join(dir, 'dovecot.log')]);
  assert.match(
    text.stdout,
    /WARNING: 3 of 3 captured sessions \(100%\) went opaque .*the logs filled the gap: 10 attempts inside them \(8 failures, 2 logins\) from 3 addresses/,
  );
  assert.match(text.stdout, /address 10\.217\.0\.3 \(username unknown\)/);
});
