/**
 * The sensor merge (src/strikes/sensor-merge.ts): one StrikeEngine behind the wire and the log; an
 * attempt both saw counts once, the first sighting strikes at once. Times are given explicitly (the
 * arrival clock is a counter the test moves), so nothing depends on the machine's speed, date or zone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Pipeline, defaultPipelineOptions } from '../src/pipeline.js';
import { readCaptureFiles } from '../src/source/capture-files.js';
import type { AuthEvent, AuthOutcome, InferredBasis, StrikeEvent, WireSnapshot } from '../src/events.js';
import { AddressSet } from '../src/strikes/address-key.js';
import { iptablesLogLine, strikeLogLine } from '../src/strikes/iptables-log.js';
import { canonicalClient, SensorMerge, type Attempt, type SensorMergeOptions } from '../src/strikes/sensor-merge.js';
import { defaultStrikeOptions, logSnapshot, StrikeEngine, type StrikeOptions } from '../src/strikes/strike-engine.js';
import { EventLog } from './support/synth.js';
import { eventJson } from '../src/replay-output/json-lines.js';

const SERVER = '192.0.2.25';
const snap = (dst: string): WireSnapshot => ({
  ipVersion: dst.includes(':') ? 6 : 4,
  src: SERVER,
  dst,
  ipLen: 100,
  tos: 0,
  ttl: 64,
  ipId: 7,
  df: true,
  flowLabel: 0,
  sport: 587,
  dport: 40000,
  window: 501,
  tcpFlags: 0x18,
  iface: 'eth0',
});
let flowId = 1;
const CODE: Record<AuthOutcome, number> = { auth_failure: 535, auth_success: 235, auth_tempfail: 454 };
function wireEv(
  client: string,
  ts: number,
  type: AuthOutcome = 'auth_failure',
  user: string | null = 'alice',
  inferred: InferredBasis | null = null,
): AuthEvent {
  return {
    type,
    ts,
    flow: flowId++,
    client,
    clientPort: 40000,
    server: SERVER,
    serverPort: 587,
    code: CODE[type],
    mech: inferred ? null : 'LOGIN',
    user: inferred ? null : user,
    text: inferred ? '' : `${CODE[type]} x`,
    matched: false,
    inferred,
    wire: snap(client),
  };
}
const inferred = (known: boolean): InferredBasis => ({ basis: 1, recordLen: 80, delay: 0.1, known });
const logAt = (
  client: string,
  ts: number,
  outcome: Attempt['outcome'] = 'failure',
  user: string | null = 'alice',
  serverPort: number | null = null,
): Attempt => ({ source: 'log', ts, client, outcome, user, serverPort });

function setup(
  merge: Partial<SensorMergeOptions> = { logSensor: true },
  tweak?: (o: StrikeOptions) => void,
): { m: SensorMerge; e: StrikeEngine; log: EventLog } {
  const o = defaultStrikeOptions();
  tweak?.(o);
  const log = new EventLog();
  const e = new StrikeEngine(o, log);
  return { m: new SensorMerge(e, merge), e, log };
}
const strikes = (log: EventLog): StrikeEvent[] => log.events.filter((x): x is StrikeEvent => x.type === 'strike');
const prefixes = (log: EventLog): string[] => strikes(log).map((s) => s.prefix);

test('wire only (no log sensor): every failure strikes at once, nothing is held', () => {
  const { m, e, log } = setup({});
  const c = '198.51.100.1';
  m.event(wireEv(c, 10));
  assert.equal(strikes(log).length, 1, 'struck before any later event or tick');
  m.event(wireEv(c, 10.001));
  m.event(wireEv(c, 10.002));
  assert.deepEqual(prefixes(log), ['SMTP_AUTH_FAIL: Strike 1:', 'SMTP_AUTH_FAIL: Strike 2:', 'SMTP_AUTH_FAIL: Strike 3:']);
  assert.deepEqual(
    strikes(log).map((s) => s.source),
    ['wire', 'wire', 'wire'],
  );
  assert.equal(eventJson(strikes(log)[0]!)!.source, 'wire');
  assert.equal(e.isBlocked(c, 10.002), true);
  const cov = m.coverage();
  assert.deepEqual(cov.only, { wire: 3, inferred: 0, log: 0 });
  assert.equal(cov.held, 0);
  assert.equal(cov.held_peak, 0);
});

test('wire with the log sensor on: the wire failure still strikes at once (held, not delayed)', () => {
  const { m, log } = setup();
  m.event(wireEv('198.51.100.2', 100));
  assert.equal(strikes(log).length, 1);
  assert.equal(m.coverage().held, 1);
  m.tick(102.5); // past the 2 s tolerance: settles as wire-only
  const cov = m.coverage();
  assert.equal(cov.held, 0);
  assert.deepEqual(cov.only, { wire: 1, inferred: 0, log: 0 });
  assert.equal(strikes(log).length, 1);
});

test('log only: failures strike from the log with "(log)" and a LOG line without a packet; 3 block', () => {
  const { m, e, log } = setup({ logSensor: true, wireSensor: false });
  const c = '203.0.113.9';
  for (const t of [50, 60, 70]) m.log(logAt(c, t, 'failure', 'bob', 587));
  assert.deepEqual(prefixes(log), ['SMTP_AUTH_FAIL: Strike 1 (log):', 'SMTP_AUTH_FAIL: Strike 2 (log):', 'SMTP_AUTH_FAIL: Strike 3 (log):']);
  assert.equal(strikes(log)[0]!.source, 'log');
  assert.equal(strikes(log)[0]!.inferred, false);
  assert.equal(
    strikeLogLine(strikes(log)[2]!),
    'SMTP_AUTH_FAIL: Strike 3 (log): IN= OUT= SRC=0.0.0.0 DST=203.0.113.9 LEN=0 TOS=0x00 PREC=0x00 TTL=0 ID=0 PROTO=TCP SPT=587 DPT=0 WINDOW=0 RES=0x00 URGP=0',
  );
  assert.equal(e.isBlocked(c, 70), true);
  assert.equal(e.stats.logStrikes, 3);
  const j = eventJson(strikes(log)[0]!)!;
  assert.equal(j.source, 'log');
  assert.equal(j.inferred, undefined);
  assert.equal(
    j.log,
    'SMTP_AUTH_FAIL: Strike 1 (log): IN= OUT= SRC=0.0.0.0 DST=203.0.113.9 LEN=0 TOS=0x00 PREC=0x00 TTL=0 ID=0 PROTO=TCP SPT=587 DPT=0 WINDOW=0 RES=0x00 URGP=0',
  );
  assert.deepEqual(m.coverage().only, { wire: 0, inferred: 0, log: 3 });
  assert.equal(m.coverage().held, 0);
});

test('the same attempt seen by both sensors strikes once, the log line after or before the packet', () => {
  // Log after the packet (what the test bed measured: +0.0 .. +12.6 ms).
  {
    const { m, e, log } = setup();
    const c = '198.51.100.3';
    m.event(wireEv(c, 1000.0));
    m.log(logAt(c, 1000.004));
    m.event(wireEv(c, 1000.5));
    m.log(logAt(c, 1000.505));
    m.event(wireEv(c, 1001.0));
    m.log(logAt(c, 1001.003));
    assert.deepEqual(prefixes(log), ['SMTP_AUTH_FAIL: Strike 1:', 'SMTP_AUTH_FAIL: Strike 2:', 'SMTP_AUTH_FAIL: Strike 3:']);
    assert.equal(e.stats.strikes, 3);
    assert.equal(e.stats.blocks, 1);
    assert.deepEqual(m.coverage().both, { wire: 3, inferred: 0 });
    m.flush();
    assert.deepEqual(m.coverage().only, { wire: 0, inferred: 0, log: 0 });
  }
  // Log before the packet (watch reads the wire through tcpdump's pipe: the line may win): the log strikes,
  // the wire event is passed on (reported) and strikes nothing.
  {
    const { m, log } = setup();
    const c = '198.51.100.4';
    m.log(logAt(c, 2000.0));
    m.event(wireEv(c, 2000.01));
    m.log(logAt(c, 2001.0));
    m.event(wireEv(c, 2002.9)); // 1.9 s later: still within the 2 s tolerance
    assert.deepEqual(prefixes(log), ['SMTP_AUTH_FAIL: Strike 1 (log):', 'SMTP_AUTH_FAIL: Strike 2 (log):']);
    assert.equal(log.events.filter((x) => x.type === 'auth_failure').length, 2, 'the wire events are still reported');
    assert.deepEqual(m.coverage().both, { wire: 2, inferred: 0 });
  }
});

test('two separate attempts within the tolerance: wire saw 2, log saw 2 -> 2 strikes, not 4 and not 1', () => {
  const { m, e } = setup();
  const c = '198.51.100.5';
  m.event(wireEv(c, 10.0));
  m.event(wireEv(c, 10.2)); // same sensor: never the same attempt
  m.log(logAt(c, 10.01));
  m.log(logAt(c, 10.21));
  assert.equal(e.stats.strikes, 2);
  m.flush();
  const cov = m.coverage();
  assert.deepEqual(cov.both, { wire: 2, inferred: 0 });
  assert.deepEqual(cov.only, { wire: 0, inferred: 0, log: 0 });
  // The log saw a third the wire did not (say, on a port the capture does not cover): 3.
  const b = setup();
  b.m.event(wireEv(c, 10.0));
  b.m.event(wireEv(c, 10.2));
  b.m.log(logAt(c, 10.01));
  b.m.log(logAt(c, 10.21));
  b.m.log(logAt(c, 10.4));
  b.m.flush();
  assert.equal(b.e.stats.strikes, 3);
  assert.deepEqual(b.m.coverage().only, { wire: 0, inferred: 0, log: 1 });
});

test('outside the tolerance: two attempts (each sensor saw one)', () => {
  const { m, e } = setup();
  const c = '198.51.100.6';
  m.event(wireEv(c, 10));
  m.log(logAt(c, 12.001));
  assert.equal(e.stats.strikes, 2);
  m.flush();
  assert.deepEqual(m.coverage().only, { wire: 1, inferred: 0, log: 1 });
});

test('different users are never merged; an unknown user on one side may match', () => {
  const { m, e } = setup();
  const c = '198.51.100.7';
  m.event(wireEv(c, 10, 'auth_failure', 'alice'));
  m.log(logAt(c, 10.01, 'failure', 'bob'));
  assert.equal(e.stats.strikes, 2);
  m.log(logAt(c, 10.02, 'failure', null)); // `sasl_username=(unavailable)`: matches the wire's alice
  assert.equal(e.stats.strikes, 2);
  m.flush();
  assert.deepEqual(m.coverage().both, { wire: 1, inferred: 0 });
  assert.deepEqual(m.coverage().only, { wire: 0, inferred: 0, log: 1 });
});

test('a different outcome, client or known server port is never merged', () => {
  const { m, e } = setup({ logSensor: true }, (o) => {
    o.tempfailStrikes = true;
  });
  const c = '198.51.100.8';
  m.event(wireEv(c, 10, 'auth_failure'));
  m.log(logAt(c, 10.01, 'tempfail'));
  m.log(logAt('198.51.100.9', 10.01, 'failure'));
  m.log(logAt(c, 10.02, 'failure', 'alice', 25)); // the wire's was on 587
  assert.equal(e.stats.strikes, 4);
  m.log(logAt(c, 10.03, 'failure', 'alice', 587));
  assert.equal(e.stats.strikes, 4);
  m.flush();
  assert.deepEqual(m.coverage().both, { wire: 1, inferred: 0 });
  assert.deepEqual(m.coverage().only, { wire: 0, inferred: 0, log: 3 });
});

test('a success followed by failures: each counted once, the success strikes nothing', () => {
  const { m, e, log } = setup();
  const c = '198.51.100.10';
  m.event(wireEv(c, 10, 'auth_success'));
  m.event(wireEv(c, 10.3, 'auth_failure'));
  m.log(logAt(c, 10.31, 'failure')); // arrives before the log's success line (a disconnect line comes late)
  m.log(logAt(c, 10.5, 'success'));
  m.event(wireEv(c, 10.6, 'auth_failure'));
  m.log(logAt(c, 10.61, 'failure'));
  assert.equal(e.stats.strikes, 2);
  assert.deepEqual(prefixes(log), ['SMTP_AUTH_FAIL: Strike 1:', 'SMTP_AUTH_FAIL: Strike 2:']);
  assert.equal(e.isBlocked(c, 11), false);
  m.flush();
  assert.deepEqual(m.coverage().both, { wire: 3, inferred: 0 });
  assert.deepEqual(m.coverage().only, { wire: 0, inferred: 0, log: 0 });
});

test('inferred + log: counted once; a known inference strikes first, an unknown one is struck by the log', () => {
  // Known size: the inference strikes (TLS inferred), the log confirms and is dropped.
  {
    const { m, e, log } = setup();
    const c = '198.51.100.11';
    m.event(wireEv(c, 10, 'auth_failure', null, inferred(true)));
    m.log(logAt(c, 10.003, 'failure', 'alice'));
    assert.deepEqual(prefixes(log), ['SMTP_AUTH_FAIL: Strike 1 (TLS inferred):']);
    assert.equal(strikes(log)[0]!.source, 'inferred');
    assert.equal(e.stats.strikes, 1);
    assert.deepEqual(m.coverage().both, { wire: 0, inferred: 1 });
  }
  // Unknown size (or --no-inferred-strikes): nothing struck on the wire; the log's line strikes, once.
  for (const off of [false, true]) {
    const { m, e, log } = setup({ logSensor: true }, (o) => {
      o.inferredStrikes = !off;
    });
    const c = '198.51.100.12';
    m.event(wireEv(c, 10, 'auth_failure', null, inferred(off)));
    assert.equal(e.stats.strikes, 0);
    m.log(logAt(c, 10.003));
    assert.deepEqual(prefixes(log), ['SMTP_AUTH_FAIL: Strike 1 (log):']);
    assert.equal(m.coverage().confirmed_inferred, 1);
    assert.deepEqual(m.coverage().both, { wire: 0, inferred: 1 });
    // Without the log, the unknown inference keeps striking nothing.
    m.event(wireEv(c, 20, 'auth_failure', null, inferred(off)));
    m.flush();
    assert.equal(e.stats.strikes, 1);
    assert.equal(e.stats.inferredNotStruck, 2);
    assert.deepEqual(m.coverage().only, { wire: 0, inferred: 1, log: 0 });
  }
  // The log first, then the (unknown) inference: one strike, from the log.
  {
    const { m, e } = setup();
    const c = '198.51.100.13';
    m.log(logAt(c, 10));
    m.event(wireEv(c, 10.01, 'auth_failure', null, inferred(false)));
    assert.equal(e.stats.strikes, 1);
    assert.deepEqual(m.coverage().both, { wire: 0, inferred: 1 });
  }
});

test('tempfail (454): strikes once with --tempfail-strikes, never without, and is merged either way', () => {
  for (const on of [false, true]) {
    const { m, e } = setup({ logSensor: true }, (o) => {
      o.tempfailStrikes = on;
    });
    const c = '198.51.100.14';
    m.event(wireEv(c, 10, 'auth_tempfail'));
    m.log(logAt(c, 10.002, 'tempfail', null));
    m.log(logAt(c, 30, 'tempfail', null)); // log only
    m.event(wireEv(c, 50, 'auth_tempfail')); // wire only
    m.flush();
    assert.equal(e.stats.strikes, on ? 3 : 0, `tempfail strikes ${on}`);
    assert.deepEqual(m.coverage().both, { wire: 1, inferred: 0 });
    assert.deepEqual(m.coverage().only, { wire: 1, inferred: 0, log: 1 });
  }
});

test('memory is bounded: past maxHeld the oldest sighting is let go and counted; a late partner then counts twice', () => {
  const { m, e } = setup({ logSensor: true, maxHeld: 4 });
  for (let i = 0; i < 6; i++) m.event(wireEv(`198.51.100.${100 + i}`, 10 + i * 0.01));
  const cov = m.coverage();
  assert.equal(cov.held, 4);
  assert.equal(cov.held_peak, 4);
  assert.equal(cov.held_evicted, 2);
  assert.deepEqual(cov.only, { wire: 2, inferred: 0, log: 0 });
  m.log(logAt('198.51.100.100', 10.06)); // its wire sighting was let go: counted as a second attempt
  m.log(logAt('198.51.100.105', 10.06)); // still held: the same attempt
  assert.equal(e.stats.strikes, 7);
  m.flush();
  assert.deepEqual(m.coverage().both, { wire: 1, inferred: 0 });
  assert.deepEqual(m.coverage().only, { wire: 5, inferred: 0, log: 1 });
  assert.equal(m.coverage().held, 0);
});

test('many clients over time: held sightings leave at the tolerance, the queue stays small', () => {
  const { m } = setup({ logSensor: true, tolerance: 2 });
  for (let i = 0; i < 20_000; i++) {
    const c = `10.0.${(i >> 8) & 255}.${i & 255}`;
    m.event(wireEv(c, i * 0.1));
    m.log(logAt(c, i * 0.1 + 0.001));
  }
  const cov = m.coverage();
  assert.equal(cov.both.wire, 20_000);
  assert.equal(cov.held, 0);
  assert.equal(cov.held_peak, 1);
});

test('the clock: a packet at its time, a log line when it was read — not at its stamp (whole seconds, its zone)', () => {
  let now = 9999; // a wire sighting does not read the clock
  const { m, e } = setup({ logSensor: true, clock: () => now });
  const c = '198.51.100.20';
  m.event(wireEv(c, 5000.2));
  now = 5000.26;
  // The line's own stamp is the whole second in the server's zone (here 5 h off): not what is compared.
  m.log(logAt(c, 5000 - 5 * 3600));
  assert.equal(e.stats.strikes, 1);
  assert.deepEqual(m.coverage().both, { wire: 1, inferred: 0 });
  now = 5003;
  m.tick();
  assert.equal(m.coverage().held, 0);
  // A log strike counts at its arrival time.
  m.log(logAt(c, 0));
  assert.equal(e.stats.strikes, 2);
});

test('log clients are compared in the wire form: IPv4-mapped and uncompressed IPv6', () => {
  assert.equal(canonicalClient('::ffff:198.51.100.1'), '198.51.100.1');
  assert.equal(canonicalClient('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalClient('198.51.100.1'), '198.51.100.1');
  const { m, e } = setup();
  m.event(wireEv('2001:db8::1', 10));
  m.log(logAt('2001:0db8:0000:0000:0000:0000:0000:0001', 10.01));
  assert.equal(e.stats.strikes, 1);
  const w = logSnapshot('2001:db8::1', null);
  assert.equal(
    iptablesLogLine('P:', w, false),
    'P: IN= OUT= SRC=0000:0000:0000:0000:0000:0000:0000:0000 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=0 TC=0 HOPLIMIT=0 FLOWLBL=0 PROTO=TCP SPT=0 DPT=0 WINDOW=0 RES=0x00 URGP=0',
  );
});

test('whitelisted clients: a log failure strikes nothing, as on the wire', () => {
  const { m, e } = setup({ logSensor: true }, (o) => {
    o.whitelist = new AddressSet();
    o.whitelist.add('203.0.113.0/24');
  });
  m.log(logAt('203.0.113.5', 10));
  m.event(wireEv('203.0.113.6', 10));
  assert.equal(e.stats.strikes, 0);
  assert.equal(e.stats.whitelistedEvents, 2);
});

/**
 * A real test-bed run (scripts/testbed/measure-log-delay.sh, test/fixtures/sensor-merge/README.md):
 * the capture and the Postfix lines with the time each was read. Lines become attempts by a stand-in
 * for the accounts parsers (failure, 454, and a login: the first `client=… sasl_username=` or
 * `disconnect … auth=N` line of an smtpd session with N > 0).
 */
const FIX = new URL('../../test/fixtures/sensor-merge/', import.meta.url);
function loggedAttempts(name: string, shift: number): { at: number; a: Attempt }[] {
  const out: { at: number; a: Attempt }[] = [];
  const loggedIn = new Set<string>();
  for (const raw of readFileSync(new URL(`${name}.stamped`, FIX), 'utf8').split('\n')) {
    if (!raw) continue;
    const tab = raw.indexOf('\t');
    const at = Number(raw.slice(0, tab)) + shift;
    const line = raw.slice(tab + 1);
    const m = / postfix\/(?:[\w-]+\/)?smtpd\[(\d+)\]: .*?unknown\[([^\]]+)\]/.exec(line);
    if (!m) continue;
    const [, pid, client] = m as unknown as [string, string, string];
    const user = /sasl_username=([^,\s]+)/.exec(line)?.[1] ?? null;
    const attempt = (outcome: Attempt['outcome'], u: string | null): void => {
      out.push({ at, a: { source: 'log', ts: Math.floor(at), client, outcome, user: u === '(unavailable)' ? null : u, serverPort: 587 } });
    };
    if (line.includes(' connect from ')) loggedIn.delete(pid);
    else if (/SASL \S+ authentication failed: /.test(line)) attempt(line.includes('Connection lost to authentication server') ? 'tempfail' : 'failure', user);
    else if (line.includes(' client=') && user && !loggedIn.has(pid)) {
      loggedIn.add(pid);
      attempt('success', user);
    } else if (line.includes(' disconnect from ')) {
      const n = / auth=(\d+)/.exec(line);
      if (n && Number(n[1]) > 0 && !loggedIn.has(pid)) attempt('success', null);
      loggedIn.delete(pid);
    }
  }
  return out;
}

/** Replays the fixture's capture with (or without) its log, each sighting at its arrival time. */
async function mergedRun(
  name: string,
  o: { wire: boolean; log: boolean; shift?: number; tweak?: (s: StrikeOptions) => void },
): Promise<{ p: Pipeline; log: EventLog; logged: number }> {
  const opts = defaultPipelineOptions();
  opts.ports = [587];
  o.tweak?.(opts.strikes);
  opts.sensors = { logSensor: o.log, wireSensor: o.wire };
  const log = new EventLog();
  const p = new Pipeline(opts, log);
  const lines = o.log ? loggedAttempts(name, o.shift ?? 0) : [];
  let i = 0;
  const feedUntil = (t: number): void => {
    while (i < lines.length && lines[i]!.at <= t) {
      const { at, a } = lines[i++]!;
      p.merge.log(a, at);
    }
  };
  if (o.wire) {
    await readCaptureFiles([new URL(`${name}.pcap`, FIX).pathname], (rec) => {
      feedUntil(rec.tsSec + rec.tsNsec * 1e-9);
      p.packet(rec);
    });
    p.flows.closeAll(p.lastTs);
  }
  feedUntil(Infinity);
  p.merge.flush();
  return { p, log, logged: lines.length };
}

test('a real TLS-only Postfix run: wire (inferred) + log count each of 30 failures and 10 logins once', async () => {
  const wireOnly = await mergedRun('tls', { wire: true, log: false });
  assert.equal(wireOnly.p.merge.coverage().only.inferred, 40);
  const base = wireOnly.p.strikes.stats;
  assert.ok(base.strikes >= 3 && base.blocks === 1, `wire-only: ${base.strikes} strikes, ${base.blocks} blocks`);
  assert.equal(base.strikes + base.failuresOnRejectedConnections, 30);
  // The log line was read after the packet (+0..13 ms, as measured), and, shifted, 50 ms before it.
  for (const shift of [0, -0.05]) {
    const both = await mergedRun('tls', { wire: true, log: true, shift });
    assert.equal(both.logged, 40);
    const cov = both.p.merge.coverage();
    assert.deepEqual(cov.both, { wire: 0, inferred: 40 }, `shift ${shift}`);
    assert.deepEqual(cov.only, { wire: 0, inferred: 0, log: 0 });
    assert.equal(both.p.strikes.stats.blocks, 1);
    assert.equal(both.log.events.filter((e) => e.type === 'auth_failure').length, 30, 'every wire event still reported');
    // Packet first: exactly the wire-only strikes (the log's sightings are dropped). Log first: the log
    // strikes each of the 30 once — it cannot know that the replay's rules had refused the connection of
    // 27 of them (live, the kernel block means such connections never happen). Never 30 + 3.
    assert.equal(both.p.strikes.stats.strikes, shift === 0 ? base.strikes : 30, `shift ${shift}`);
  }
  // The log sensor alone (no capture): all 30 failures strike (no refused connection is known to it).
  const logOnly = await mergedRun('tls', { wire: false, log: true });
  assert.equal(logOnly.p.strikes.stats.strikes, 30);
  assert.equal(logOnly.p.strikes.stats.logStrikes, 30);
  assert.equal(logOnly.p.strikes.stats.blocks, 1);
  assert.deepEqual(logOnly.p.merge.coverage().only, { wire: 0, inferred: 0, log: 40 });
  // Inference off, log on: the log strikes what the inference may not, each once — as the wire would have.
  const noInf = await mergedRun('tls', {
    wire: true,
    log: true,
    tweak: (s) => {
      s.inferredStrikes = false;
    },
  });
  assert.equal(noInf.p.strikes.stats.strikes, base.strikes);
  assert.equal(noInf.p.strikes.stats.logStrikes, base.strikes);
  assert.equal(noInf.p.merge.coverage().confirmed_inferred, base.strikes);
  assert.deepEqual(noInf.p.merge.coverage().both, { wire: 0, inferred: 40 });
});

test("a real run under Dovecot's penalty: 535s and 454s on the wire and in the log merge one to one", async () => {
  for (const on of [false, true]) {
    const tweak = (s: StrikeOptions): void => {
      s.tempfailStrikes = on;
    };
    const wireOnly = await mergedRun('penalty', { wire: true, log: false, tweak });
    const both = await mergedRun('penalty', { wire: true, log: true, tweak });
    assert.equal(both.logged, 10);
    assert.deepEqual(both.p.merge.coverage().both, { wire: 10, inferred: 0 });
    assert.deepEqual(both.p.merge.coverage().only, { wire: 0, inferred: 0, log: 0 });
    assert.equal(both.p.strikes.stats.strikes, wireOnly.p.strikes.stats.strikes, `tempfail strikes ${on}`);
  }
});
