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
import { Writable } from 'node:stream';
import { Output } from '../src/io/output.js';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { waitFor } from './support/wait.js';
import type { AuthEvent, BlockEvent, PipelineEvent, RejectEvent, StrikeEvent, WireSnapshot } from '../src/events.js';
import { defaultPipelineOptions, type PipelineOptions } from '../src/pipeline.js';
import { defaultTallyLimits } from '../src/replay-output/client-tally.js';
import { localTime, localTimeUncached } from '../src/replay-output/detail-lines.js';
import { ByteLines, NUM_BOUND } from '../src/replay-output/json-bytes.js';
import { eventJson, eventJsonLine, isoTime, isoTimeUncached, JsonLinesWriter, round6 } from '../src/replay-output/json-lines.js';
import { renderText } from '../src/replay-output/text-report.js';
import { replayFiles } from '../src/replay.js';
import { strikeLogLine } from '../src/strikes/iptables-log.js';
import { escapeControl } from '../src/text/control-chars.js';
import { basisNames } from '../src/tls/auth-exchange.js';
import { smtpstrike } from './support/cli.js';
import { manyFailuresCapture } from './support/big-inputs.js';
import { hostileUnit, sampleAuthAndStrike } from './support/json-samples.js';
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
  const { auth, strike } = await sampleAuthAndStrike();
  const text = fc.array(hostileUnit, { maxLength: 12 }).map((a) => a.join(''));
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

test('JSON lines: the iptables LOG line made in place is strikeLogLine (IPv4 and IPv6, interfaces, TOS, flags, any numbers, hostile prefixes)', async () => {
  const log = new EventLog();
  await replayFiles(['pcaps/testbed/login-587.pcap'], defaultPipelineOptions(), log);
  const strike = log.events.find((e): e is StrikeEvent => e.type === 'strike');
  assert.ok(strike);
  const text = fc
    .array(
      fc.oneof(
        fc.constantFrom('"', '\\', '\n', 'é', '\ud800', 'a', '.', ':'),
        fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
      ),
      { maxLength: 6 },
    )
    .map((a) => a.join(''));
  const num = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 70000 }), fc.double(), fc.constant(-1));
  const addr = fc.oneof(fc.ipV4(), fc.ipV6(), text);
  const snap = fc.record({
    ipVersion: fc.constantFrom(4 as const, 6 as const),
    src: addr,
    dst: addr,
    ipLen: num,
    tos: fc.oneof(fc.integer({ min: 0, max: 255 }), num),
    ttl: num,
    ipId: num,
    df: fc.boolean(),
    flowLabel: num,
    sport: num,
    dport: num,
    window: num,
    tcpFlags: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff })),
    iface: fc.oneof(fc.constant(''), fc.constant('eth0'), text),
  });
  fc.assert(
    fc.property(snap, fc.oneof(fc.constant(strike.prefix), text), fc.boolean(), (wire: WireSnapshot, prefix, reject) => {
      const s: StrikeEvent = { ...strike, prefix, wire };
      assert.equal(eventJsonLine(s), reference(s));
      const r: RejectEvent = {
        type: 'reject',
        ts: strike.ts,
        client: strike.client,
        key: strike.key,
        rule: reject ? 'auth' : 'conn',
        prefix,
        wire,
        block: null,
      };
      assert.equal(eventJsonLine(r), reference(r));
    }),
    { seed: 15, numRuns: 3000 },
  );
});

test('JSON lines: block times, inferred delays and event times at any value, as JSON.stringify writes them', async () => {
  const log = new EventLog();
  await replayFiles(['pcaps/testbed/login-587.pcap'], defaultPipelineOptions(), log);
  const auth = log.events.find((e): e is AuthEvent => e.type === 'auth_failure');
  assert.ok(auth);
  const time = fc.oneof(
    fc.double({ min: 0, max: 2 ** 33, noNaN: true }),
    fc.double({ min: 1.7e9, max: 1.8e9, noNaN: true }),
    fc.double({ min: 0, max: 1e-5, noNaN: true }),
    fc.double({ min: 8e9, max: 9e9, noNaN: true }),
    fc.double({ min: -1e3, max: 8e12, noNaN: true }),
    fc.integer({ min: 0, max: 2 ** 33 }).map((s) => s + 0.9999995),
  );
  fc.assert(
    fc.property(time, time, time, fc.integer({ min: 0, max: 40 }), (from, until, delay, level) => {
      const b: BlockEvent = { type: 'block', ts: from, client: auth.client, key: auth.client, rule: 'auth', from, until, level };
      assert.equal(eventJsonLine(b), reference(b));
      const a: AuthEvent = { ...auth, ts: until, inferred: { basis: 3, recordLen: level, delay, known: level % 2 === 0 } };
      assert.equal(eventJsonLine(a), reference(a));
    }),
    { seed: 15, numRuns: 5000 },
  );
});

test('JSON numbers: round6(x) from the integer microseconds is String(round6(x)), on every µs of ranges and on random values', () => {
  const w = new ByteLines(64, null);
  const sec6 = (x: number): string => {
    w.reset();
    w.reserve(NUM_BOUND);
    w.sec6(x);
    return w.buf.toString('latin1', 0, w.pos);
  };
  const check = (us: number): void => {
    const x = us / 1e6;
    const got = sec6(x);
    if (got !== JSON.stringify(round6(x))) assert.equal(got, JSON.stringify(round6(x)), `${us} µs`);
  };
  // Every µs of: the first second, a second of today, the seconds around 2^31 and 2^32, and just below 2^33.
  for (const s0 of [0, 1740981602, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 33 - 2]) for (let us = 0; us < 1e6; us++) check(s0 * 1e6 + us);
  // Random µs up to 2^33 s, and doubles that are not whole µs; outside the range the String path.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 33 * 1e6 - 1 }), fc.double(), (us, d) => {
      check(us);
      assert.equal(sec6(d), JSON.stringify(round6(d)));
      assert.equal(sec6(us / 1e6 + 4e-7), JSON.stringify(round6(us / 1e6 + 4e-7)));
    }),
    { seed: 15, numRuns: 200_000 },
  );
  for (const x of [-0, -1e-7, -1.5, 2 ** 33, 1e21, 1e300, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 5e-7, 4.9e-7, 1e-6])
    assert.equal(sec6(x), JSON.stringify(round6(x)), `${x}`);
});

test('JSON lines writer: bytes handed to the output stay untouched until it says done; text and bytes outputs get the same lines, long ones too', async () => {
  const log = new EventLog();
  await replayFiles(['pcaps/testbed/login-587.pcap'], defaultPipelineOptions(), log);
  const auth = log.events.find((e): e is AuthEvent => e.type === 'auth_failure');
  assert.ok(auth);
  // Lines of every size: from short to longer than a piece (256 KiB) and than a buffer (+64 KiB).
  const events: PipelineEvent[] = [];
  for (let i = 0; i < 3000; i++) {
    const n = i % 500 === 7 ? 100_000 + 97 * i : i % 13;
    events.push({ ...auth, ts: auth.ts + i / 7, text: (i % 3 ? 'x' : 'é"').repeat(n), user: i % 2 ? null : `u${i}` });
    events.push(...log.events);
  }
  const want = events
    .map(eventJsonLine)
    .filter((l) => l !== null)
    .map((l) => `${l}\n`)
    .join('');
  // Text output.
  let text = '';
  const tw = new JsonLinesWriter({ write: (s: string) => (text += s) });
  for (const ev of events) tw.event(ev);
  tw.flush();
  assert.equal(text, want);
  // Bytes output that gives buffers back late: what it got must not change before it says done.
  const pending: { bytes: Uint8Array; copy: Buffer; done: () => void }[] = [];
  const got: Buffer[] = [];
  const settle = (keep: number): void => {
    while (pending.length > keep) {
      const p = pending.shift()!;
      assert.ok(Buffer.from(p.bytes).equals(p.copy), 'bytes changed before done');
      got.push(p.copy);
      p.done();
    }
  };
  const bw = new JsonLinesWriter({
    write: () => assert.fail('bytes expected'),
    writeBytes(bytes: Uint8Array, done: () => void) {
      pending.push({ bytes, copy: Buffer.from(bytes), done });
      settle(3);
    },
  });
  for (const ev of events) bw.event(ev);
  bw.flush();
  settle(0);
  assert.ok(got.length > 10);
  assert.equal(Buffer.concat(got).toString('utf8'), want);
});

test('JSON lines writer: events are written in batches, in order, before any line and at flush', async () => {
  const log = new EventLog();
  await replayFiles(['pcaps/testbed/login-587.pcap'], defaultPipelineOptions(), log);
  const lines = log.events.map(eventJsonLine).filter((l) => l !== null);
  assert.ok(lines.length > 0);
  let text = '';
  const w = new JsonLinesWriter({ write: (s: string) => (text += s) });
  let want = '';
  // 700 events and more between the lines: batches cut anywhere, internal events included.
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k * log.events.length < 700; k++) {
      for (const ev of log.events) w.event(ev);
      want += lines.map((l) => `${l}\n`).join('');
    }
    w.line({ type: 'mark', round });
    want += `${JSON.stringify({ type: 'mark', round })}\n`;
  }
  for (const ev of log.events) w.event(ev);
  want += lines.map((l) => `${l}\n`).join('');
  w.flush();
  assert.equal(text, want);
});

test("JSON lines writers side by side (and eventJsonLine between): each line its own time, never another writer's bytes", async () => {
  const log = new EventLog();
  await replayFiles(['pcaps/testbed/login-587.pcap'], defaultPipelineOptions(), log);
  const lines = log.events.map(eventJsonLine).filter((l) => l !== null);
  const want = lines.map((l) => `${l}\n`).join('');
  const texts = ['', '', ''];
  const writers = texts.map((_, i) => new JsonLinesWriter({ write: (s: string) => (texts[i] += s) }));
  for (const ev of log.events) {
    for (const w of writers) {
      w.event(ev);
      eventJsonLine(ev);
    }
    writers[1]!.flush(); // one of them hands its piece on after every event
  }
  for (const w of writers) w.flush();
  for (const t of texts) assert.equal(t, want);
});

test('Output.writeBytes: after the text gathered, done once the stream has the bytes, a full stream makes ready() wait, a closed one takes nothing', async () => {
  const chunks: Buffer[] = [];
  let finish: (() => void) | null = null;
  const slow = new Writable({
    highWaterMark: 8,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      finish = cb; // taken when the test says so
    },
  });
  const out = Output.of(slow);
  out.write('text first\n');
  let done = 0;
  out.writeBytes(Buffer.from('bytes after\n'), () => done++);
  assert.equal(done, 0, 'not done while the stream holds them');
  assert.ok(out.ready() instanceof Promise, 'the stream asked to wait');
  while (finish) {
    const f: () => void = finish;
    finish = null;
    f();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(done, 1);
  assert.equal(out.ready(), null);
  assert.equal(Buffer.concat(chunks).toString(), 'text first\nbytes after\n');
  slow.destroy(Object.assign(new Error('gone'), { code: 'EPIPE' }));
  await new Promise((r) => setImmediate(r));
  assert.equal(out.closed, true);
  out.writeBytes(Buffer.from('more'), () => done++);
  assert.equal(done, 2, 'a closed output is done with the bytes at once');
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
