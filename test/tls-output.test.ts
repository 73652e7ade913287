/**
 * What a user sees of the outcomes inferred inside TLS (issue 10, items 4 and 5), on the shipped
 * TLS-only captures: JSON events marked `inferred`, the summary's `clients[ip].inferred`, the
 * coverage's session verdicts, the text headline, strikes marked in their LOG line, and
 * `--no-inferred-strikes`. Expectations come from the truth files (pcaps/tls/*.truth.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, smtpstrike } from './support/cli.js';
import { replayFrames } from './support/replay.js';
import { renderText } from '../src/replay-output/text-report.js';
import type { FrameList } from './support/synth.js';

const DIR = 'pcaps/tls';

interface TlsSession {
  client_port: number;
  outcomes: number[];
}
interface TlsClient {
  failures: number;
  successes: number;
  tempfails: number;
  sessions: TlsSession[];
}
interface TlsTruth {
  capture: string;
  inside_tls: Record<string, TlsClient>;
  not_inferable?: string;
}

const truths = readdirSync(DIR)
  .filter((f) => f.endsWith('.truth.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as TlsTruth);

const CODE_TYPE: Record<number, string> = { 535: 'auth_failure', 235: 'auth_success', 454: 'auth_tempfail' };

test('every shipped TLS capture: one inferred JSON event per outcome of the truth, per session in order, with its basis and record length', () => {
  assert.ok(truths.length >= 4);
  for (const t of truths) {
    const r = smtpstrike(['replay', '--json', join(DIR, t.capture)]);
    assert.equal(r.status, 0, r.stderr);
    const auths = r.lines.filter((l) => String(l.type).startsWith('auth_'));
    if (t.not_inferable) {
      // Exim over TLS 1.2 CBC: its replies share record sizes; nothing may be inferred.
      assert.deepEqual(auths, [], `${t.capture}: ${t.not_inferable}`);
      assert.equal((r.summary.coverage as Record<string, unknown>).opaque_sessions_classified, 0);
      continue;
    }
    for (const a of auths) {
      assert.equal(a.inferred, true, `${t.capture}: nothing is read in the clear inside TLS`);
      assert.ok(Array.isArray(a.basis) && (a.basis as string[]).length > 0 && (a.basis as string[]).every((b) => b === 'tls-size' || b === 'tls-timing'));
      assert.equal(typeof a.record_len, 'number');
      assert.equal(a.text, '');
      assert.equal(a.user, null);
    }
    for (const [ip, c] of Object.entries(t.inside_tls)) {
      for (const s of c.sessions) {
        const got = auths.filter((a) => a.client === ip && a.client_port === s.client_port).map((a) => a.type);
        assert.deepEqual(
          got,
          s.outcomes.map((o) => CODE_TYPE[o]),
          `${t.capture} ${ip}:${s.client_port}`,
        );
      }
      assert.deepEqual(r.summary.clients[ip]?.inferred, { failures: c.failures, successes: c.successes, tempfails: c.tempfails }, `${t.capture} ${ip}`);
      assert.deepEqual(
        [r.summary.clients[ip].failures, r.summary.clients[ip].successes, r.summary.clients[ip].tempfails],
        [0, 0, 0],
        'clear counts stay clear',
      );
    }
    // Coverage: a session with AUTH is classified; one without gives no outcome (ambiguous or unclassified).
    const sessions = Object.values(t.inside_tls).flatMap((c) => c.sessions);
    const cov = r.summary.coverage as Record<string, unknown>;
    assert.equal(cov.opaque_sessions_classified, sessions.filter((s) => s.outcomes.length > 0).length, `${t.capture}: classified`);
    assert.equal(
      Number(cov.opaque_sessions_ambiguous) + Number(cov.opaque_sessions_unclassified),
      sessions.filter((s) => s.outcomes.length === 0).length,
      `${t.capture}: not classified`,
    );
    const inf = cov.inferred as Record<string, number>;
    const sum = (k: 'failures' | 'successes' | 'tempfails'): number => Object.values(t.inside_tls).reduce((n, c) => n + c[k], 0);
    assert.deepEqual([inf.failures, inf.successes, inf.tempfails], [sum('failures'), sum('successes'), sum('tempfails')]);
  }
});

test('inferred failures strike (LOG line marked TLS inferred) and block at the hit count; --no-inferred-strikes reports them and strikes nothing', () => {
  const file = join(DIR, 'tls13-mixed.pcap');
  const t = truths.find((x) => x.capture === 'tls13-mixed.pcap')!;
  const on = smtpstrike(['replay', '--json', file]);
  const strikes = on.lines.filter((l) => l.type === 'strike');
  const failures = Object.values(t.inside_tls).reduce((n, c) => n + c.failures, 0);
  assert.equal(strikes.length, failures, 'one strike per inferred failure');
  for (const s of strikes) {
    assert.equal(s.inferred, true);
    assert.match(String(s.log), /^SMTP_AUTH_FAIL: Strike [123] \(TLS inferred\): IN= OUT=/);
  }
  // The clients the truth gives 3 failures within the window are blocked by the auth rule.
  const blocked = Object.entries(t.inside_tls)
    .filter(([, c]) => c.failures >= 3)
    .map(([ip]) => ip)
    .sort();
  assert.ok(blocked.length > 0);
  assert.deepEqual(
    on.summary.blocks
      .filter((b) => b.rule === 'auth')
      .map((b) => b.key)
      .sort(),
    blocked,
  );

  const off = smtpstrike(['replay', '--json', '--no-inferred-strikes', file]);
  assert.equal(off.lines.filter((l) => l.type === 'strike').length, 0);
  assert.equal(off.summary.blocks.filter((b) => b.rule === 'auth').length, 0);
  assert.equal((off.summary.coverage as Record<string, unknown>).inferred_not_struck, failures);
  assert.equal(off.lines.filter((l) => l.type === 'auth_failure' && l.inferred === true).length, failures, 'still reported');
  assert.equal((off.summary.options as Record<string, unknown>).inferred_strikes, false);
});

test("an ambiguous record never becomes an event or a strike (the mail without AUTH: 354 and 250 have a 235's size)", () => {
  const t = truths.find((x) => x.capture === 'tls13-mixed.pcap')!;
  const noAuth = Object.entries(t.inside_tls).flatMap(([ip, c]) => c.sessions.filter((s) => s.outcomes.length === 0).map((s) => [ip, s.client_port] as const));
  assert.ok(noAuth.length > 0);
  const r = smtpstrike(['replay', '--json', join(DIR, t.capture)]);
  const cov = r.summary.coverage as Record<string, unknown>;
  assert.ok((cov.inferred as Record<string, number>).ambiguous_records! > 0, 'the capture has ambiguous records');
  for (const [ip, port] of noAuth)
    assert.equal(r.lines.filter((l) => l.client === ip && l.client_port === port && l.type !== 'starttls').length, 0, `${ip}:${port}`);
});

test('text output: the headline counts encrypted sessions and inferred outcomes; per client the inferred counts; never "no replies found" when sessions were opaque', () => {
  const r = spawnSync(process.execPath, [CLI, 'replay', join(DIR, 'tls13-mixed.pcap')], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(
    lines[1],
    'Encrypted (TLS) sessions: 6; inferred inside them from record sizes and timing: failures 8, successes 3, temporary failures 0  (sessions classified 5, ambiguous 1, unclassified 0)',
  );
  assert.ok(lines.includes('10.200.0.5: 0 failures, 0 successes, 0 temporary failures; inferred inside TLS: 3 failures, 0 successes, 0 temporary failures'));
  assert.ok(
    lines.some((l) => /^ {2}\S+ \S+ {2}535 {2}10\.200\.0\.5:\d+ > 10\.200\.0\.1:25 {2}inferred inside TLS: record 218 bytes, /.test(l)),
    'the pipelined record',
  );
  assert.ok(!r.stdout.includes('No SMTP authentication replies found.'));
});

test('text output: opaque sessions with nothing inferred say so instead of "No SMTP authentication replies found."', async () => {
  // A TLS session with no AUTH in it (EHLO, QUIT): opaque, nothing inferred.
  const recs = (...rs: [number, number][]): Buffer =>
    Buffer.concat(rs.map(([type, len]) => Buffer.concat([Buffer.from([type, 3, 3, len >> 8, len & 0xff]), Buffer.alloc(len)])));
  const r = await replayFrames(
    (f: FrameList) => {
      const c = f.conversation('en10mb', '198.51.100.30', 40200, '192.0.2.25', 465);
      let t = 1_700_000_000_000_000;
      c.open(t);
      c.fromClient(recs([22, 300]), (t += 1000));
      c.fromServer(recs([22, 90], [20, 1], [22, 40]), (t += 1000));
      c.fromClient(recs([20, 1], [22, 40]), (t += 1000));
      c.fromClient(recs([23, 43]), (t += 1000));
      c.fromServer(recs([23, 193]), (t += 1000));
      c.fromClient(recs([23, 23]), (t += 1000));
      c.fromServer(recs([23, 32]), (t += 1000));
      c.close(t + 1000);
    },
    (o) => {
      o.ports = [465];
    },
  );
  const text = renderText({ tally: r.tally, blocks: r.blocks, coverage: r.coverage, files: r.files, summaryOnly: false });
  assert.ok(!text.includes('No SMTP authentication replies found.'), text);
  assert.match(
    text,
    /^Encrypted \(TLS\) sessions: 1; inferred inside them from record sizes and timing: failures 0, successes 0, temporary failures 0 {2}\(sessions classified 0, ambiguous 0, unclassified 1\)$/m,
  );
  assert.match(text, /^No AUTH outcome read in the clear or inferred inside TLS/m);
});
