/**
 * replay's output at full rate (issue 15 item 6): the JSON lines written by hand are byte for byte
 * `JSON.stringify(eventJson(ev))` on every event of every shipped capture and on hostile texts; the
 * cached clocks equal their definitions; the text report's detail lines are the lines the report
 * made from the kept events before, capped at --details-per-client with the rest counted; and a
 * reader that does not read holds the replay back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { waitFor } from './support/wait.js';
import type { AuthEvent, PipelineEvent, RejectEvent, StrikeEvent } from '../src/events.js';
import { defaultPipelineOptions, type PipelineOptions } from '../src/pipeline.js';
import { defaultTallyLimits } from '../src/replay-output/client-tally.js';
import { localTime, localTimeUncached } from '../src/replay-output/detail-lines.js';
import { eventJson, eventJsonLine, isoTime, isoTimeUncached, JsonLinesWriter } from '../src/replay-output/json-lines.js';
import { renderText } from '../src/replay-output/text-report.js';
import { replayFiles } from '../src/replay.js';
import { strikeLogLine } from '../src/strikes/iptables-log.js';
import { escapeControl } from '../src/text/control-chars.js';
import { basisNames } from '../src/tls/auth-exchange.js';
import { smtpstrike } from './support/cli.js';
import { manyFailuresCapture } from './support/big-inputs.js';
import { EventLog, tempDir } from './support/synth.js';
import { truthFiles, type Truth } from './support/truth.js';

/** Each shipped capture set with its server ports. */
function shippedCaptures(): { name: string; files: string[]; ports?: number[] }[] {
  return truthFiles('pcaps').map((tf) => {
    const t = JSON.parse(readFileSync(tf, 'utf8')) as Truth;
    const files = (Array.isArray(t.capture) ? t.capture : [t.capture]).map((c) => join(dirname(tf), c));
    return { name: tf, files, ...(t.ports ? { ports: t.ports } : {}) };
  });
}

function options(ports: number[] | undefined, patterns: string[] = []): PipelineOptions {
  const o = defaultPipelineOptions();
  if (ports) o.ports = ports;
  o.patterns = patterns;
  return o;
}

const reference = (ev: PipelineEvent): string | null => {
  const j = eventJson(ev);
  return j ? JSON.stringify(j) : null;
};

test('JSON lines: every event of every shipped capture is written as JSON.stringify(eventJson(ev)), byte for byte', async () => {
  const seen = new Map<string, number>();
  for (const c of shippedCaptures()) {
    // Plain, and with a --match pattern (the `matched` key).
    for (const patterns of [[], ['authentication']]) {
      const log = new EventLog();
      await replayFiles(c.files, options(c.ports, patterns), log);
      for (const ev of log.events) {
        assert.equal(eventJsonLine(ev), reference(ev), `${c.name}: ${ev.type} at ${ev.ts}`);
        const kind = `${ev.type}${'inferred' in ev && ev.inferred ? ' inferred' : ''}${'matched' in ev && ev.matched ? ' matched' : ''}`;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
      }
    }
  }
  for (const kind of [
    'auth_failure',
    'auth_success',
    'auth_tempfail',
    'auth_failure inferred',
    'auth_failure matched',
    'starttls',
    'strike',
    'strike inferred',
    'reject',
    'block',
  ])
    assert.ok((seen.get(kind) ?? 0) > 0, `the captures have a ${kind} event (${JSON.stringify([...seen])})`);
});

test('JSON lines: hostile usernames, reply texts and mechanisms (quotes, controls, lone surrogates, any Unicode) as JSON.stringify writes them', async () => {
  const log = new EventLog();
  await replayFiles(['pcaps/testbed/login-587.pcap'], defaultPipelineOptions(), log);
  const auth = log.events.find((e): e is AuthEvent => e.type === 'auth_failure');
  const strike = log.events.find((e): e is StrikeEvent => e.type === 'strike');
  assert.ok(auth && strike);
  const unit = fc.oneof(
    fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', '\ud83d\ude00', 'é', '/'),
    fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
  );
  const text = fc.array(unit, { maxLength: 12 }).map((a) => a.join(''));
  fc.assert(
    fc.property(text, fc.option(text), fc.option(text), fc.double({ noNaN: true, noDefaultInfinity: true }), (t, user, mech, ts) => {
      const ev: AuthEvent = { ...auth, text: t, user, mech, ts: Math.abs(ts) % 4e9 };
      assert.equal(eventJsonLine(ev), reference(ev));
      const s: StrikeEvent = { ...strike, prefix: t, client: t, key: t };
      assert.equal(eventJsonLine(s), reference(s));
    }),
    { seed: 15, numRuns: 3000 },
  );
});

test('isoTime and localTime: the per-second caches equal the definitions (DST changes, zones off the hour, far dates)', () => {
  const saved = process.env.TZ;
  try {
    const stamps: number[] = [];
    // Around the 2026 DST changes in Europe and America, in µs and sub-µs steps, and far ones.
    for (const t0 of [1774746000, 1792890000, 1772953200, 1793512800, 0, 1e9, 1733400000.5]) {
      for (let i = -5; i < 5; i++) stamps.push(t0 + i * 0.4999995, t0 + i * 1800 + 0.0000004, t0 + i * 1e-6);
    }
    stamps.push(-1.5, 253402300799 + 0.999999, 8e12, 1e-7, 0.9999996);
    for (const tz of ['UTC', 'Europe/Berlin', 'America/St_Johns', 'Pacific/Chatham', 'Asia/Kolkata']) {
      process.env.TZ = tz;
      localTime(123); // a second no stamp has: the cache starts fresh in this zone
      for (const ts of stamps) {
        assert.equal(localTime(ts), localTimeUncached(ts), `${tz} ${ts}`);
        assert.equal(isoTime(ts), isoTimeUncached(ts), `${ts}`);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

/** The detail and strike-log lines as the text report made them from the events it kept (before issue 15). */
function referenceAuthLine(e: AuthEvent): string {
  if (e.inferred) {
    const basis = basisNames(e.inferred.basis).join(' + ');
    return `  ${localTimeUncached(e.ts)}  ${e.code}  ${e.client}:${e.clientPort} > ${e.server}:${e.serverPort}  inferred inside TLS: record ${e.inferred.recordLen} bytes, ${e.inferred.delay.toFixed(3)} s after the client (${basis})`;
  }
  const who = e.user ? ` user ${escapeControl(e.user)}` : '';
  return `  ${localTimeUncached(e.ts)}  ${e.code}  ${e.client}:${e.clientPort} > ${e.server}:${e.serverPort}  ${e.mech === null ? 'AUTH ?' : escapeControl(e.mech)}${who}  "${escapeControl(e.text)}"`;
}

/** The lines under each client line of a text report, and the strike log's lines. */
function parseReport(text: string): { clients: Map<string, string[]>; strikeLog: string[] } {
  const clients = new Map<string, string[]>();
  const lines = text.split('\n');
  let i = 0;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('Strike log')) break;
    const m = /^(\S+): \d+ failures?, /.exec(l);
    if (!m) continue;
    const under: string[] = [];
    while (lines[i + 1]?.startsWith('  ')) under.push(lines[++i]!);
    clients.set(m[1]!, under);
  }
  const strikeLog: string[] = [];
  while (lines[i + 1]?.startsWith('  ')) strikeLog.push(lines[++i]!);
  return { clients, strikeLog };
}

test('text report: per client the first --details-per-client lines as before, then how many more; the strike log as before (every shipped capture)', async () => {
  let capped = 0;
  let whole = 0;
  for (const c of shippedCaptures()) {
    for (const n of [defaultTallyLimits.eventsPerClient, 1]) {
      const log = new EventLog();
      const r = await replayFiles(c.files, options(c.ports), log, undefined, { ...defaultTallyLimits, eventsPerClient: n });
      const text = renderText({ tally: r.tally, blocks: r.blocks, coverage: r.coverage, files: r.files, summaryOnly: false });
      const got = parseReport(text);
      const byClient = new Map<string, string[]>();
      for (const ev of log.events) {
        if (ev.type !== 'auth_failure' && ev.type !== 'auth_success' && ev.type !== 'auth_tempfail') continue;
        byClient.set(ev.client, [...(byClient.get(ev.client) ?? []), referenceAuthLine(ev)]);
      }
      assert.deepEqual([...got.clients.keys()].sort(), [...byClient.keys()].sort(), c.name);
      for (const [ip, all] of byClient) {
        const want = all.length > n ? [...all.slice(0, n), `  … and ${all.length - n} more (--details-per-client, --json)`] : all;
        assert.deepEqual(got.clients.get(ip), want, `${c.name} ${ip} with ${n} per client`);
        if (n === defaultTallyLimits.eventsPerClient) {
          if (all.length > n) capped++;
          else whole++;
        }
      }
      const strikes = log.events.filter((e): e is StrikeEvent | RejectEvent => e.type === 'strike' || e.type === 'reject');
      const want = strikes.length ? strikes.map((e) => `  ${localTimeUncached(e.ts)}  ${strikeLogLine(e)}`) : ['  (none)'];
      assert.deepEqual(got.strikeLog, want, `${c.name}: strike log`);
    }
  }
  assert.ok(capped >= 1 && whole > 50, `clients capped ${capped}, whole ${whole}`);
});

test('replay --details-per-client N: N lines per client and how many more; 0 lists none', () => {
  const cap = 'pcaps/crafted/repeat-offender.pcap.gz';
  const two = smtpstrike(['replay', '--details-per-client', '2', cap]).stdout.split('\n');
  const at = two.findIndex((l) => l.startsWith('203.0.113.20: 432 failures'));
  assert.ok(at > 0, two.slice(0, 5).join('\n'));
  assert.match(two[at + 1]!, /^ {2}\d{4}-\d\d-\d\d .* 535 /);
  assert.match(two[at + 2]!, /^ {2}\d{4}-\d\d-\d\d .* 535 /);
  assert.equal(two[at + 3], '  … and 430 more (--details-per-client, --json)');
  const none = smtpstrike(['replay', '--details-per-client', '0', cap]).stdout.split('\n');
  assert.equal(none[none.findIndex((l) => l.startsWith('203.0.113.20: 432 failures')) + 1], '  … and 432 more (--details-per-client, --json)');
  const bad = smtpstrike(['replay', '--details-per-client', '-1', cap]);
  assert.notEqual(bad.status, 0);
});

test('JSON lines into a reader that waits: the replay waits with it (nothing piles up), then writes everything', async (t) => {
  const written: string[] = [];
  let release: (() => void) | null = null;
  let blocked: Promise<void> | null = null;
  const out = {
    write(s: string): void {
      written.push(s);
      // After the first piece the "pipe" is full until released.
      if (written.length === 1) blocked = new Promise((r) => (release = r));
    },
  };
  const w = new JsonLinesWriter(out);
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const capture = await manyFailuresCapture(join(dir, 'clients.pcap'), 3000);
  const reference = new EventLog();
  await replayFiles([capture], defaultPipelineOptions(), reference);
  const all = reference.events.map(eventJsonLine).filter((l) => l !== null);
  assert.ok(all.join('\n').length > 600_000, 'more than two pieces of output');

  let done = false;
  const run = replayFiles([capture], defaultPipelineOptions(), w, undefined, undefined, undefined, () => blocked).then(() => {
    done = true;
  });
  // Polled by time, not by a count of event-loop turns: the first piece waits on file reads, slow on a loaded machine.
  await waitFor(() => written.length > 0, 'the first piece written', 60_000);
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.equal(written.length, 1, 'one piece written, then the replay waits');
  assert.equal(done, false);
  blocked = null;
  release!();
  await run;
  w.flush();
  assert.equal(written.join(''), all.map((l) => `${l}\n`).join(''));
});
