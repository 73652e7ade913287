/**
 * The parts of `smtpstrike report` one by one, on small made-up inputs: coverage arithmetic, the
 * wire/log join (tolerance, usernames, sessions, TLS), merging a back end's line into the front
 * end's, the zone estimate and the year placement, each verdict rule, state files, IPv6 prefixes,
 * telling captures from logs, and the HTML page's escaping of attacker-chosen names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Whitelist, emptyWhitelist } from '../src/accounts/whitelist.js';
import { estimateZone, mergeBackendLines, placeEvents, wallToEpoch, WireIndex } from '../src/report/align.js';
import { renderHtml } from '../src/report/html.js';
import { CoverageBuilder, subtract, union } from '../src/report/intervals.js';
import { joinAttempts } from '../src/report/join.js';
import { NearestYearClock, scanLogs } from '../src/report/logs.js';
import type { ReportDoc } from '../src/report/report-doc.js';
import { computeVerdicts } from '../src/report/rules.js';
import { looksLikeCapture } from '../src/report/sniff.js';
import { reachesHitcount } from '../src/strikes/recent-window.js';
import type { Attempt, BlockInfo, LogAuth, WireAuth, WireSession } from '../src/report/types.js';
import { FrameList, loginSession, tempDir } from './support/synth.js';
import { att, rules, stateFileAt } from './support/report-rules.js';

const CLI = 'dist/src/cli.js';
const T = 1_790_000_000; // 2026-09-21T12:53:20Z

function wire(ts: number, client: string, outcome: WireAuth['outcome'], user: string | null, flow = 1): WireAuth {
  return { ts, client, outcome, user, mech: user ? 'LOGIN' : null, serverPort: 587, flow, source: 'capture' };
}

function log(
  ts: number,
  ip: string,
  outcome: LogAuth['outcome'],
  user: string | null,
  service: LogAuth['service'] = 'postfix',
  reason: string | null = null,
): LogAuth {
  return {
    ts,
    wall: ts,
    guessed: false,
    service,
    outcome,
    user,
    ip,
    method: 'LOGIN',
    reason: reason ?? (outcome === 'failure' ? 'sasl' : outcome === 'tempfail' ? 'sasl-temp' : null),
    file: 'x',
    line: 1,
    lines: 1,
    services: [service],
  };
}

function session(flow: number, client: string, start: number, end: number, tlsTs: number | null, successTs: number | null = null): WireSession {
  return { flow, client, clientPort: 40000 + flow, serverPort: 587, start, end, tlsTs, implicitTls: false, successTs };
}

// ---------------------------------------------------------------- coverage

test('coverage: silences longer than the gap split it; subtract and union', () => {
  const b = new CoverageBuilder(10);
  for (const t of [0, 3, 9, 25, 30, 31, 100]) b.add(t);
  assert.deepEqual(b.result(), [
    [0, 9],
    [25, 31],
    [100, 100],
  ]);
  assert.deepEqual(
    subtract(
      [[0, 100]],
      [
        [10, 20],
        [50, 60],
      ],
    ),
    [
      [0, 10],
      [20, 50],
      [60, 100],
    ],
  );
  assert.deepEqual(subtract([[0, 10]], [[-5, 20]]), []);
  assert.deepEqual(
    union(
      [[0, 5]],
      [
        [3, 9],
        [20, 21],
      ],
    ),
    [
      [0, 9],
      [20, 21],
    ],
  );
  assert.equal(reachesHitcount([0, 600, 1200], 3, 1200), true, 'a hit exactly `seconds` old still counts');
  assert.equal(reachesHitcount([0, 600, 1200.5], 3, 1200), false);
});

// ---------------------------------------------------------------- the join

test('join: a failure on the wire and in the log within the tolerance is one attempt; farther apart, or another user, two', () => {
  const w = [
    wire(T + 0.4, '192.0.2.1', 'failure', 'alice', 1),
    wire(T + 10.2, '192.0.2.1', 'failure', 'alice', 2),
    wire(T + 20.5, '192.0.2.1', 'failure', 'alice', 3),
  ];
  const l = [log(T, '192.0.2.1', 'failure', 'alice'), log(T + 15, '192.0.2.1', 'failure', 'alice'), log(T + 20, '192.0.2.1', 'failure', 'bob')];
  const { attempts, stats } = joinAttempts(w, [], l, 2);
  assert.deepEqual(
    attempts.map((a) => [a.ts, a.seen, a.user]),
    [
      [T + 0.4, 'both', 'alice'],
      [T + 10.2, 'wire', 'alice'],
      [T + 15, 'log', 'alice'],
      [T + 20, 'log', 'bob'],
      [T + 20.5, 'wire', 'alice'],
    ],
  );
  assert.deepEqual(stats, { wireOnly: 2, logOnly: 2, both: 1, insideTls: 0 });
});

test('join: a burst of failures with whole-second log times pairs one to one, in order', () => {
  const w = [0.1, 0.3, 0.6, 0.9, 1.2].map((d, i) => wire(T + d, '192.0.2.1', 'failure', 'alice', i + 1));
  const l = [0, 0, 0, 0, 1].map((d) => log(T + d, '192.0.2.1', 'failure', 'alice'));
  const { attempts } = joinAttempts(w, [], l, 2);
  assert.equal(attempts.length, 5);
  assert.ok(attempts.every((a) => a.seen === 'both'));
});

test("join: a 454 on the wire and Postfix's failure line are one attempt (a temporary failure)", () => {
  const { attempts } = joinAttempts([wire(T + 10.3, '192.0.2.1', 'tempfail', 'alice')], [], [log(T + 10, '192.0.2.1', 'failure', null)], 2);
  assert.deepEqual(
    attempts.map((a) => [a.outcome, a.seen, a.user]),
    [['tempfail', 'both', 'alice']],
  );
});

test('join: a log tempfail (Postfix\'s "Connection lost to authentication server") joins the wire\'s 454, a log failure the 535, even when the 535 is nearer', () => {
  const w = [wire(T + 10.1, '192.0.2.1', 'failure', 'alice'), wire(T + 11.0, '192.0.2.1', 'tempfail', null)];
  const l = [log(T + 10, '192.0.2.1', 'tempfail', null), log(T + 10, '192.0.2.1', 'failure', 'alice')];
  const { attempts, stats } = joinAttempts(w, [], l, 2);
  assert.deepEqual(
    attempts.map((a) => [a.ts, a.outcome, a.seen]),
    [
      [T + 10.1, 'failure', 'both'],
      [T + 11.0, 'tempfail', 'both'],
    ],
  );
  assert.deepEqual([stats.both, stats.logOnly, stats.wireOnly], [2, 0, 0]);
});

test('join: a log tempfail with no wire reply is a tempfail (log only; inside TLS when in an opaque session), never a failure', () => {
  const s = [session(9, '192.0.2.1', T, T + 30, T + 0.5)];
  const { attempts } = joinAttempts([], s, [log(T + 5, '192.0.2.1', 'tempfail', null), log(T + 60, '192.0.2.1', 'tempfail', null)], 2);
  assert.deepEqual(
    attempts.map((a) => [a.outcome, a.seen, a.tls]),
    [
      ['tempfail', 'log', true],
      ['tempfail', 'log', false],
    ],
  );
});

test("rules: log tempfails strike only with --tempfail-strikes, like the wire's 454s, and only then are failures before a login", () => {
  const a = [
    att(T, '192.0.2.1', 'tempfail', null, 'log'),
    att(T + 1, '192.0.2.1', 'tempfail', null, 'log'),
    att(T + 2, '192.0.2.1', 'tempfail', null, 'log'),
    att(T + 3, '192.0.2.1', 'success', null, 'log'),
  ];
  const off = computeVerdicts(a, [], rules());
  assert.equal(off.addresses.get('192.0.2.1')!.would_block, false);
  assert.deepEqual(
    off.rows.map((r) => r.verdict),
    [],
  );
  const on = computeVerdicts(a, [], rules({ tempfailStrikes: true }));
  assert.equal(on.addresses.get('192.0.2.1')!.would_block, true);
  assert.deepEqual(
    on.rows.map((r) => r.verdict),
    ['COMPROMISED'],
  );
});

test("join: Postfix's success lines (one per mail, written after the 235) belong to the session's 235: one login", () => {
  const w = [wire(T + 1.5, '192.0.2.1', 'success', 'alice', 7)];
  const s = [session(7, '192.0.2.1', T, T + 30, null, T + 1.5)];
  const l = [log(T + 12, '192.0.2.1', 'success', 'alice'), log(T + 25, '192.0.2.1', 'success', 'alice'), log(T + 60, '192.0.2.1', 'success', 'alice')];
  const { attempts } = joinAttempts(w, s, l, 2);
  assert.deepEqual(
    attempts.map((a) => [a.ts, a.seen, a.logLines]),
    [
      [T + 1.5, 'both', 2],
      [T + 60, 'log', 1],
    ],
  );
});

test('join: log lines inside a session that went opaque after STARTTLS are attempts inside TLS, placed after the STARTTLS', () => {
  const s = [session(9, '192.0.2.1', T, T + 3, T + 0.6)];
  const l = [log(T, '192.0.2.1', 'failure', 'alice'), log(T + 1, '192.0.2.1', 'success', 'alice'), log(T + 2, '192.0.2.1', 'success', 'alice')];
  const { attempts, stats } = joinAttempts([wire(T - 5, '192.0.2.1', 'failure', 'alice', 8)], s, l, 2);
  assert.deepEqual(
    attempts.map((a) => [a.ts, a.outcome, a.seen, a.tls, a.logLines]),
    [
      [T - 5, 'failure', 'wire', false, 0],
      [T + 0.6, 'failure', 'log', true, 1],
      [T + 1, 'success', 'log', true, 2],
    ],
  );
  assert.equal(stats.insideTls, 2);
});

test('backend lines: Dovecot\'s "Password mismatch" and Postfix\'s SASL failure are one attempt; sshd\'s PAM and "Failed password" too; unrelated pairs are not merged', () => {
  const ev = [
    log(T, '192.0.2.1', 'failure', 'alice', 'dovecot', 'password-mismatch'),
    log(T + 1, '192.0.2.1', 'failure', 'alice', 'postfix', 'sasl'),
    log(T + 2, '192.0.2.1', 'failure', 'admin', 'dovecot', 'unknown-user'), // no Postfix line: stays
    log(T + 3, '192.0.2.2', 'failure', 'root', 'ssh', 'pam'),
    log(T + 3, '192.0.2.2', 'failure', 'root', 'ssh', 'failed'),
    log(T + 4, '192.0.2.3', 'failure', 'bob', 'dovecot', 'password-mismatch'),
    log(T + 4, '192.0.2.3', 'failure', 'bob', 'ssh', 'failed'), // ssh is no front end of Dovecot
  ];
  const { merged, pairs } = mergeBackendLines(ev);
  assert.equal(pairs, 2);
  assert.deepEqual(
    merged.map((e) => [e.ip, e.user, e.service, e.lines]),
    [
      ['192.0.2.1', 'alice', 'postfix', 2],
      ['192.0.2.1', 'admin', 'dovecot', 1],
      ['192.0.2.2', 'root', 'ssh', 2],
      ['192.0.2.3', 'bob', 'dovecot', 1],
      ['192.0.2.3', 'bob', 'ssh', 1],
    ],
  );
  assert.deepEqual(merged[0]!.services, ['postfix', 'dovecot']);
});

// ---------------------------------------------------------------- time alignment

test('zone estimate: logs written at UTC-04:00 without a zone are placed 4 hours later, and the local zone is kept when it fits', () => {
  const w = [1, 50, 120, 400].map((d, i) => wire(T + d + 0.3, `192.0.2.${i + 1}`, 'failure', 'alice', i));
  const idx = new WireIndex(w, [], 2);
  const ev = [1, 50, 120, 400].map((d, i) => ({ ...log(T + d - 4 * 3600, `192.0.2.${i + 1}`, 'failure', 'alice'), guessed: true }));
  const est = estimateZone(ev, idx);
  assert.equal(est.zone, -240);
  assert.equal(est.matched, 4);
  placeEvents(ev, est.zone);
  assert.equal(ev[0]!.ts, T + 1);
});

test('zone estimate: the local zone is kept when it fits and not when it does not (TZ pinned for the test)', () => {
  const w = [1, 50, 120, 400].map((d, i) => wire(T + d + 0.3, `192.0.2.${i + 1}`, 'failure', 'alice', i));
  const idx = new WireIndex(w, [], 2);
  const local = (): ReturnType<typeof log>[] => [1, 50].map((d, i) => ({ ...log(T + d, `192.0.2.${i + 1}`, 'failure', 'alice'), guessed: true }));
  withTZ('UTC', () => {
    assert.equal(wallToEpoch(T, 'local'), T);
    assert.equal(estimateZone(local(), idx).zone, 'local');
  });
  withTZ('Etc/GMT+4', () => {
    // UTC-04:00 (ICU, which Node uses, ignores POSIX TZ strings such as <-04>4)
    assert.equal(wallToEpoch(T, 'local'), T + 4 * 3600);
    assert.equal(estimateZone(local(), idx).zone, 0);
  });
});

/** Runs fn with the process's TZ set (Node re-reads TZ when it is assigned), then restores it. */
function withTZ(tz: string, fn: () => void): void {
  const saved = process.env['TZ'];
  process.env['TZ'] = tz;
  try {
    fn();
  } finally {
    if (saved === undefined) delete process.env['TZ'];
    else process.env['TZ'] = saved;
  }
}

test('year placement: a December syslog line read with a January capture lands in December of the year before', async () => {
  const center = Date.UTC(2027, 0, 2, 12) / 1000;
  const clock = new NearestYearClock(center);
  assert.equal(clock.syslog(11, 31, 23, 0, 0), Date.UTC(2026, 11, 31, 23) / 1000);
  assert.equal(clock.syslog(0, 2, 11, 0, 0), Date.UTC(2027, 0, 2, 11) / 1000);
  const { dir, cleanup } = tempDir();
  try {
    const f = join(dir, 'mail.log');
    writeFileSync(
      f,
      [
        'Dec 31 23:59:58 mx postfix/smtpd[1]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=alice',
        'Jan  1 00:00:03 mx postfix/smtpd[1]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=alice',
        'Jan  1 00:00:04 mx postfix/smtpd[1]: warning: mail.example.com[not-an-ip]: SASL LOGIN authentication failed: x, sasl_username=bob',
        '',
      ].join('\n'),
    );
    const scan = await scanLogs([f], { mode: 'all', center, gap: 3600 });
    assert.deepEqual(
      scan.events.map((e) => new Date(e.wall * 1000).toISOString()),
      ['2026-12-31T23:59:58.000Z', '2027-01-01T00:00:03.000Z'],
    );
    assert.equal(scan.files[0]!.yearless, 2);
    assert.equal(scan.files[0]!.counters.unparseable, 1);
    assert.deepEqual(scan.files[0]!.wallCoverage, [[Date.UTC(2026, 11, 31, 23, 59, 58) / 1000, Date.UTC(2027, 0, 1, 0, 0, 4) / 1000]]);
  } finally {
    cleanup();
  }
});

// ---------------------------------------------------------------- verdicts

test('COMPROMISED: per account when the login names one, per address otherwise; a login before the failures is not; --min-failures', () => {
  const a = [
    att(T, '192.0.2.1', 'failure', 'alice'),
    att(T + 1, '192.0.2.1', 'failure', 'bob'),
    att(T + 2, '192.0.2.1', 'success', 'alice'),
    att(T + 3, '192.0.2.1', 'success', 'alice'),
    att(T, '192.0.2.2', 'failure', null, 'wire'),
    att(T + 5, '192.0.2.2', 'success', null, 'wire'), // CRAM-MD5 on the wire: no username
    att(T, '192.0.2.3', 'success', 'carol'),
    att(T + 1, '192.0.2.3', 'failure', 'carol'), // login first, then a failure
  ];
  const v = computeVerdicts(a, [], rules());
  const comp = v.rows.filter((r) => r.verdict === 'COMPROMISED');
  assert.equal(comp.length, 2);
  const [alice, addr] = comp as [(typeof comp)[number], (typeof comp)[number]];
  assert.ok(alice.verdict === 'COMPROMISED' && addr.verdict === 'COMPROMISED');
  assert.deepEqual([alice.subject, alice.account, alice.failures, alice.successes], ['account', 'alice', 2, 2]);
  assert.deepEqual([alice.addresses[0]!.failures_same_user, alice.addresses[0]!.users_tried], [1, ['alice', 'bob']]);
  assert.deepEqual([addr.subject, addr.address, addr.account], ['address', '192.0.2.2', null]);
  assert.equal(computeVerdicts(a, [], rules({ minFailures: 2 })).rows.filter((r) => r.verdict === 'COMPROMISED').length, 1);
});

test('SUSPECT: an account from ≥ limit addresses in a day; with a network/country whitelist, any login from outside it; whitelisted accounts never', () => {
  const a = [
    att(T, '192.0.2.5', 'success', 'dave'),
    att(T + 60, '198.51.100.7', 'success', 'dave'),
    att(T, '198.51.100.8', 'success', 'erin'),
    att(T, '198.51.100.9', 'success', 'backup'),
    att(T + 1, '203.0.113.9', 'success', 'backup'),
  ];
  let v = computeVerdicts(a, [], rules());
  assert.deepEqual(
    v.rows.filter((r) => r.verdict === 'SUSPECT').map((r) => r.verdict === 'SUSPECT' && [r.account, r.rules, r.addresses.map((x) => x.ip)]),
    [
      ['backup', ['addresses'], ['198.51.100.9', '203.0.113.9']],
      ['dave', ['addresses'], ['192.0.2.5', '198.51.100.7']],
    ],
  );
  const wl = new Whitelist({ ...emptyWhitelist(), ips: ['192.0.2.0/24'], users: ['backup'] });
  v = computeVerdicts(a, [], rules({ whitelist: wl }));
  assert.deepEqual(
    v.rows.filter((r) => r.verdict === 'SUSPECT').map((r) => r.verdict === 'SUSPECT' && [r.account, r.rules, r.addresses.map((x) => x.ip)]),
    [
      ['dave', ['unlisted'], ['198.51.100.7']],
      ['erin', ['unlisted'], ['198.51.100.8']],
    ],
  );
  v = computeVerdicts(a, [], rules({ whitelist: wl, limit: -2 }));
  const dave = v.rows.find((r) => r.verdict === 'SUSPECT' && r.account === 'dave');
  assert.ok(dave && dave.verdict === 'SUSPECT');
  assert.deepEqual(dave.rules, ['addresses', 'unlisted']);
  assert.deepEqual(
    dave.addresses.map((x) => [x.ip, x.whitelisted]),
    [
      ['192.0.2.5', 'address'],
      ['198.51.100.7', null],
    ],
  );
});

test('DISTRIBUTED: one account failing from ≥ 4 addresses under the strike threshold; an address over it is not counted; the window bounds it', () => {
  const a: Attempt[] = [];
  for (const [i, ip] of ['192.0.2.1', '192.0.2.2', '192.0.2.3'].entries()) a.push(att(T + i, ip, 'failure', 'admin'), att(T + 100 + i, ip, 'failure', 'admin'));
  for (let k = 0; k < 3; k++) a.push(att(T + 10 + k, '192.0.2.4', 'failure', 'admin')); // 3 in 1200 s: over the threshold
  a.sort((x, y) => x.ts - y.ts);
  assert.equal(computeVerdicts(a, [], rules()).rows.filter((r) => r.verdict === 'DISTRIBUTED').length, 0, '3 under the threshold are not enough');
  const b = [...a, att(T + 500, '192.0.2.5', 'failure', 'admin')].sort((x, y) => x.ts - y.ts);
  const row = computeVerdicts(b, [], rules()).rows.find((r) => r.verdict === 'DISTRIBUTED');
  assert.ok(row && row.verdict === 'DISTRIBUTED');
  assert.deepEqual(
    row.addresses.map((x) => [x.ip, x.failures]),
    [
      ['192.0.2.1', 2],
      ['192.0.2.2', 2],
      ['192.0.2.3', 2],
      ['192.0.2.5', 1],
    ],
  );
  assert.deepEqual(row.over_threshold, ['192.0.2.4']);
  assert.equal(row.failures, 7);
  assert.equal(computeVerdicts(b, [], rules({ distributedWindow: 300 })).rows.filter((r) => r.verdict === 'DISTRIBUTED').length, 0);
});

test('ATTACKED: failures only, with the blocks applied; failures seen only in the logs that reach the threshold are named', () => {
  const blocks: BlockInfo[] = [{ key: '192.0.2.1', client: '192.0.2.1', rule: 'auth', from: T + 2, until: T + 1202, rejects: 4, level: 0, source: 'capture' }];
  const a = [
    att(T, '192.0.2.1', 'failure', 'alice', 'both'),
    att(T + 1, '192.0.2.1', 'failure', 'alice', 'both'),
    att(T + 2, '192.0.2.1', 'failure', 'alice', 'wire'),
    att(T, '192.0.2.2', 'failure', 'bob', 'log'),
    att(T + 1, '192.0.2.2', 'failure', 'bob', 'log'),
    att(T + 2, '192.0.2.2', 'failure', 'bob', 'log'),
    att(T, '192.0.2.3', 'tempfail', 'carol', 'wire'),
  ];
  const rows = computeVerdicts(a, blocks, rules()).rows.filter((r) => r.verdict === 'ATTACKED');
  assert.deepEqual(
    rows.map(
      (r) =>
        r.verdict === 'ATTACKED' && [r.address, r.failures.all, r.failures.both, r.failures.wire_only, r.blocks.length, r.would_block, r.rejects, r.tempfails],
    ),
    [
      ['192.0.2.1', 3, 2, 1, 1, true, 4, 0],
      ['192.0.2.2', 3, 0, 0, 0, true, 0, 0],
      ['192.0.2.3', 0, 0, 0, 0, false, 0, 1],
    ],
  );
});

// ---------------------------------------------------------------- inputs

test('sniffing: pcap, pcapng and gzip-compressed captures are captures; text and compressed logs are logs', () => {
  const { dir, cleanup } = tempDir();
  try {
    const pcap = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');
    const files: [string, Buffer, boolean][] = [
      ['a.pcap', pcap, true],
      ['b.pcap.gz', gzipSync(pcap), true],
      ['c.pcapng', Buffer.from('0a0d0d0a1c0000004d3c2b1a', 'hex'), true],
      ['mail.log', Buffer.from('Feb 13 00:15:16 mx postfix/smtpd[1]: connect\n'), false],
      ['mail.log.gz', gzipSync('Feb 13 00:15:16 mx x\n'), false],
    ];
    for (const [n, b, cap] of files) {
      writeFileSync(join(dir, n), b);
      assert.equal(looksLikeCapture(join(dir, n)), cap, n);
    }
    assert.equal(looksLikeCapture(join(dir, 'missing')), false);
  } finally {
    cleanup();
  }
});

test("state file: a watch state joins the logs by address and time, and its blocks show; IPv6 prefixes take their addresses' log lines", () => {
  const { dir, cleanup } = tempDir();
  try {
    const state = stateFileAt(T);
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    const line = (ts: number, ip: string, user: string): string =>
      `${new Date(ts * 1000).toISOString().replace('.000', '')} mx postfix/smtpd[1]: warning: unknown[${ip}]: SASL LOGIN authentication failed: x, sasl_username=${user}`;
    writeFileSync(
      join(dir, 'mail.log'),
      [line(T, '203.0.113.5', 'alice'), line(T + 10, '203.0.113.5', 'alice'), line(T + 30, '2001:db8:1::77', 'root'), ''].join('\n'),
    );
    const r = spawnSync(process.execPath, [CLI, 'report', '-c', '/dev/null', '-g', '0', '--json', '--state', join(dir, 'state.json'), join(dir, 'mail.log')], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ReportDoc;
    const v4 = doc.verdicts.find((v) => v.verdict === 'ATTACKED' && v.address === '203.0.113.5');
    assert.ok(v4 && v4.verdict === 'ATTACKED');
    assert.deepEqual([v4.failures.all, v4.failures.both, v4.failures.wire_only, v4.failures.log_only], [3, 2, 1, 0]);
    assert.deepEqual(
      v4.blocks.map((b) => [b.rule, b.rejects, b.source]),
      [['auth', 2, 'state']],
    );
    const v6 = doc.verdicts.find((v) => v.verdict === 'ATTACKED' && v.address === '2001:db8:1::/64');
    assert.ok(v6 && v6.verdict === 'ATTACKED');
    assert.deepEqual([v6.failures.all, v6.failures.both, v6.users], [1, 1, ['root']]);
    assert.equal(doc.inputs.state?.failure_stamps, 4);
    assert.equal(doc.clock.zoneless_lines, 0, 'RFC 3339 stamps carry their zone');
  } finally {
    cleanup();
  }
});

test('synthetic capture + log: the report runs the capture through the same pipeline as replay (strikes, blocks) and joins the log', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const fl = new FrameList();
    const t0 = T * 1e6;
    for (let i = 0; i < 4; i++)
      loginSession(
        fl.conversation('en10mb', '198.51.100.20', 40000 + i, '192.0.2.25', 587),
        t0 + i * 2e6,
        'alice',
        '535 5.7.8 Error: authentication failed\r\n',
      );
    const cap = await fl.write(join(dir, 'x.pcap'));
    const lines = [0, 1, 2, 3].map(
      (i) =>
        `${new Date((T + i * 2) * 1000).toISOString().slice(0, 19)}Z mx postfix/submission/smtpd[1]: warning: unknown[198.51.100.20]: SASL LOGIN authentication failed: x, sasl_username=alice`,
    );
    writeFileSync(join(dir, 'mail.log'), lines.join('\n') + '\n');
    const r = spawnSync(process.execPath, [CLI, 'report', '-c', '/dev/null', '-g', '0', '--json', cap, join(dir, 'mail.log')], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ReportDoc;
    const row = doc.verdicts.find((v) => v.verdict === 'ATTACKED');
    assert.ok(row && row.verdict === 'ATTACKED');
    assert.deepEqual([row.address, row.failures.all, row.failures.both, row.blocks.length], ['198.51.100.20', 4, 4, 1]);
  } finally {
    cleanup();
  }
});

test('HTML: attacker-chosen usernames are escaped in the page and in the embedded JSON; no URL is loaded', () => {
  const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
  const a = [att(T, '192.0.2.1', 'failure', evil), att(T + 1, '192.0.2.1', 'success', evil)];
  const v = computeVerdicts(a, [], rules());
  const doc: ReportDoc = {
    type: 'report',
    version: 1,
    generated_at: 'now',
    tz: '+00:00',
    inputs: { captures: [], state: null, logs: [] },
    clock: {
      log_tz: '+00:00',
      log_tz_offset_min: 0,
      log_tz_source: 'option',
      log_year: null,
      log_year_source: null,
      zoneless_lines: 0,
      yearless_lines: 0,
      estimate: null,
      backend_lines_merged: 0,
    },
    spans: { wire: null, logs: null },
    totals: {
      addresses: 1,
      attempts: 2,
      failures: { all: 1, wire_only: 0, log_only: 0, both: 1 },
      successes: { all: 1, wire_only: 0, log_only: 0, both: 1 },
      tempfails: { all: 0, wire_only: 0, log_only: 0, both: 0 },
      inside_tls: 0,
      join: { wireOnly: 0, logOnly: 0, both: 2, insideTls: 0 },
    },
    counts: { COMPROMISED: 1, SUSPECT: 0, DISTRIBUTED: 0, ATTACKED: 0, BLIND_SPOTS: 0 },
    verdicts: v.rows,
    addresses: [...v.addresses.values()].map((s) => ({
      ...s,
      geo: null,
      events: a.map((x) => ({ ts: x.ts, outcome: x.outcome, user: x.user, seen: x.seen, tls: false })),
      events_not_listed: 0,
    })),
    countries: [],
    asns: [],
    blind_spots: {
      count: 0,
      missing: [],
      opaque_sessions: {
        total: 0,
        not_kept: 0,
        with_log_attempts: 0,
        inferred: { failures: 0, successes: 0, tempfails: 0 },
        smtp_sessions: 0,
        mostly_opaque: false,
        log_attempts_inside: { failures: 0, successes: 0, tempfails: 0 },
        addresses: [],
      },
      periods: [],
      wire_not_logged: { failures: 0, successes: 0, addresses: [] },
      logged_not_on_wire: { failures: 0, successes: 0, addresses: [] },
      unparseable: [],
      read_errors: [],
      capture: { gaps: 0, gap_bytes: 0, midstream_starts: 0, evicted_flows: 0, auths_not_kept: 0 },
    },
    tls_replies: { failure_source: 'banner', log_failure_text: null, log_failure_texts: [] },
    warnings: [],
    options: {} as ReportDoc['options'], // not rendered
  };
  const html = renderHtml(doc, 0);
  assert.ok(!html.includes('<script>alert'), 'no injected script element');
  assert.ok(!html.includes('<img'), 'no injected element');
  assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;alert(1)'), 'the name is shown, escaped');
  const json = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
  assert.ok(!json.includes('<'), 'the embedded JSON holds no "<"');
  assert.equal((JSON.parse(json) as ReportDoc).verdicts[0]!.verdict, 'COMPROMISED');
  assert.doesNotMatch(html, /\s(src|href)\s*=\s*["']?\s*(https?:|\/\/|ftp:)/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
});

test("log scan: Postfix's disconnect line is a login unless its session was named; auth=2 is two log attempts of one line; the 454 line a tempfail", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = join(dir, 'mail.log');
    writeFileSync(
      f,
      [
        'Dec 05 04:09:00 mail postfix/smtpd[10]: 1A: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=alice',
        'Dec 05 04:09:01 mail postfix/smtpd[10]: disconnect from unknown[192.0.2.1] ehlo=1 auth=1 mail=1 quit=1 commands=4',
        'Dec  5 04:09:02 mail postfix/smtpd[11]: disconnect from unknown[192.0.2.2] ehlo=1 auth=2/3 quit=1 commands=4/5',
        'Dec  5 04:09:03 mail postfix/smtpd[12]: warning: unknown[192.0.2.3]: SASL LOGIN authentication failed: Connection lost to authentication server, sasl_username=(unavailable)',
      ].join('\n') + '\n',
    );
    const scan = await scanLogs([f], { mode: 'all', year: 2025, gap: 3600 });
    assert.deepEqual(
      scan.events.map((e) => [e.ip, e.outcome, e.user, e.lines, e.reason]),
      [
        ['192.0.2.1', 'success', 'alice', 1, null],
        ['192.0.2.2', 'success', null, 1, 'disconnect'],
        ['192.0.2.2', 'success', null, 0, 'disconnect'],
        ['192.0.2.3', 'tempfail', null, 1, 'sasl-temp'],
      ],
    );
    const c = scan.files[0]!.counters;
    assert.deepEqual([c.successes, c.failures, c.tempfails, c.ignored], [2, 0, 1, 1]);
  } finally {
    cleanup();
  }
});
