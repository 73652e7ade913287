/**
 * `watch --metrics`: a watch on a shipped capture (test/support/fake-watch.ts: a stand-in tcpdump,
 * a dry-run blocker, no root), its /metrics scraped and checked against the capture's ground truth;
 * no line carries an address; `smtpstrike status` against the same run; the Grafana dashboard
 * queries only metrics a scrape declares. Plus the HOST:PORT reader and the refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { parseListenAddress } from '../src/metrics/listen-address.js';
import { MetricsServer } from '../src/metrics/metrics-server.js';
import type { MetricsSource } from '../src/metrics/metrics-source.js';
import { declaredMetrics, parsePromText, sumOf } from '../src/metrics/prom-text.js';
import { WATCH_METRIC_NAMES } from '../src/watch/watch-metrics.js';
import type { StatusDoc } from '../src/status/status.js';
import { CLI } from './support/cli.js';
import { emptyPcap, startWatch } from './support/fake-watch.js';
import { tempDir } from './support/synth.js';
import type { Truth } from './support/truth.js';

/**
 * A copy of a classic little-endian microsecond pcap whose packets are moved in time so that the
 * last one is `endsAt` (seconds): blocks made from it are standing now. Returns the packet count.
 */
function shiftedPcap(src: string, dst: string, endsAt: number): number {
  const b = Buffer.from(readFileSync(src));
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, `${src}: a little-endian µs pcap`);
  const stamps: number[] = [];
  for (let off = 24; off + 16 <= b.length; off += 16 + b.readUInt32LE(off + 8)) stamps.push(off);
  const last = b.readUInt32LE(stamps[stamps.length - 1]);
  const shift = Math.floor(endsAt) - last;
  for (const off of stamps) b.writeUInt32LE(b.readUInt32LE(off) + shift, off);
  writeFileSync(dst, b);
  return stamps.length;
}

async function get(port: number, path = '/metrics', method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes until `pred` holds (deadline 20 s) and returns that scrape. */
async function scrapeUntil(port: number, pred: (text: string) => boolean, what: string): Promise<string> {
  const t0 = Date.now();
  let text = '';
  while (Date.now() - t0 < 20_000) {
    text = (await get(port)).body;
    if (pred(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last scrape:\n${text}`);
}

const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/;
const IPV6 = /\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b/i;

function status(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'status', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('watch --metrics on pcaps/crafted/bruteforce.pcap: the counts are the ground truth, no address anywhere; status agrees; the dashboard queries what exists', async () => {
  const truth = JSON.parse(readFileSync('pcaps/crafted/bruteforce.truth.json', 'utf8')) as Truth & { strikes: string[] };
  const t = tempDir();
  const pcap = join(t.dir, 'bruteforce-now.pcap');
  const packets = shiftedPcap('pcaps/crafted/bruteforce.pcap', pcap, Date.now() / 1000 - 1);
  // --conn-seconds 3600: the connection rule's block lasts an hour instead of about half a minute
  // after the capture's end, so no assertion races its expiry; the truth's lines hold for any window
  // of 49 s or more (.77's 7 SYNs span 48 s; .66 opens 3 counted connections).
  const w = startWatch({ mode: 'runs', pcap, args: ['--metrics', '127.0.0.1:0', '--conn-seconds', '3600'], config: 'stats_interval: 3600\n' });
  try {
    const listening = await w.waitLog((l) => l.event === 'metrics_listening', 'metrics listening');
    assert.equal(listening.host, '127.0.0.1');
    const port = listening.port as number;
    assert.ok(port > 0);
    // Read everything, and the dry-run blocker's batches (one per ≤ 100 ms tick) applied.
    const settled = (x: string): boolean => {
      const p = parsePromText(x);
      return (
        sumOf(p, 'smtpstrike_packets_total') === packets &&
        sumOf(p, 'smtpstrike_blocker_apply_seconds_count') >= 1 &&
        sumOf(p, 'smtpstrike_blocker_queued_ops') === 0
      );
    };
    const text = await scrapeUntil(port, settled, `all ${packets} packets read and the blocks applied`);
    const s = parsePromText(text);

    // The ground truth: 535s per client, the strike log's lines, and the blocks they imply.
    const failures = Object.values(truth.clients).reduce((n, c) => n + c.failures, 0);
    const successes = Object.values(truth.clients).reduce((n, c) => n + c.successes, 0);
    const strikes = truth.strikes.filter((l) => /Strike \d+:/.test(l)).length;
    const authRejects = truth.strikes.filter((l) => l.includes('Go AWAY')).length;
    const connRejects = truth.strikes.filter((l) => l.includes('Brute Force')).length;
    const keyOf = (l: string): string => l.slice(l.lastIndexOf(' ') + 1);
    const authBlocked = new Set(truth.strikes.filter((l) => l.includes('Go AWAY') || l.includes('Strike 3:')).map(keyOf));
    const connBlocked = new Set(truth.strikes.filter((l) => l.includes('Brute Force')).map(keyOf));
    assert.deepEqual([failures, strikes, authRejects, connRejects, authBlocked.size, connBlocked.size], [8, 3, 5, 2, 1, 1], 'the truth file as read');

    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'wire', outcome: 'failure' }), failures);
    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'wire', outcome: 'success' }), successes);
    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'inferred' }), 0);
    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'log' }), 0);
    assert.equal(sumOf(s, 'smtpstrike_strikes_total', { sensor: 'wire' }), strikes);
    assert.equal(sumOf(s, 'smtpstrike_strikes_total'), strikes);
    assert.equal(sumOf(s, 'smtpstrike_rejects_total', { rule: 'auth' }), authRejects);
    assert.equal(sumOf(s, 'smtpstrike_rejects_total', { rule: 'conn' }), connRejects);
    assert.equal(sumOf(s, 'smtpstrike_blocks_total', { rule: 'auth' }), authBlocked.size);
    assert.equal(sumOf(s, 'smtpstrike_blocks_total', { rule: 'conn' }), connBlocked.size);
    assert.equal(sumOf(s, 'smtpstrike_active_blocks', { rule: 'auth' }), authBlocked.size);
    assert.equal(sumOf(s, 'smtpstrike_active_blocks', { rule: 'conn' }), connBlocked.size);
    assert.equal(sumOf(s, 'smtpstrike_opaque_flows_total'), truth.opaque_flows);
    assert.equal(sumOf(s, 'smtpstrike_flows_total'), 15, '8 connections from .66, 7 from .77 (the truth notes)');
    assert.equal(sumOf(s, 'smtpstrike_capture_dropped_total', { where: 'buffer' }), 0, "the stand-in tcpdump's statistics");
    assert.equal(sumOf(s, 'smtpstrike_blocker_ops_total', { result: 'failed' }), 0);
    assert.ok(sumOf(s, 'smtpstrike_blocker_apply_seconds_count') >= 1, 'the dry-run blocker applied at least one batch');
    assert.match(text, /^smtpstrike_info\{blocker="dry-run",capture_backend="tcpdump"\} 1$/m);

    // Every metric the docs name is declared; no line carries an address, and no client of the capture appears.
    const declared = declaredMetrics(text);
    for (const name of WATCH_METRIC_NAMES) assert.ok(declared.has(name), `${name} declared`);
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      assert.doesNotMatch(line, IPV4, line);
      assert.doesNotMatch(line, IPV6, line);
    }
    for (const c of [...authBlocked, ...connBlocked, ...Object.keys(truth.clients)]) assert.ok(!text.includes(c), `${c} is in no line`);

    // Not /metrics: 404; not GET: 405.
    assert.equal((await get(port, '/')).status, 404);
    assert.equal((await get(port, '/metrics', 'POST')).status, 405);
    assert.match((await get(port)).type, /^text\/plain; version=0\.0\.4/);

    // The Grafana dashboard parses and queries only declared metrics (histograms by their series).
    const dash = JSON.parse(readFileSync('contrib/grafana-smtpstrike.json', 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const queried = new Set<string>();
    for (const p of dash.panels) for (const tg of p.targets) for (const m of tg.expr.matchAll(/smtpstrike_[a-z0-9_]+/g)) queried.add(m[0]);
    assert.ok(queried.size >= 20, `the dashboard queries ${queried.size} metrics`);
    for (const q of queried) assert.ok(declared.has(q) || declared.has(q.replace(/_(bucket|sum|count)$/, '')), `dashboard metric ${q} exists in a scrape`);

    // status: blocks and strikes from the state file (saved within a tick), health from the endpoint.
    const standing = await (async () => {
      const t0 = Date.now();
      for (;;) {
        const r = status(['--config', w.config, '--state-file', w.state, '--metrics', `127.0.0.1:${port}`, '--json']);
        const d = JSON.parse(r.stdout) as StatusDoc;
        if (d.blocks.length === authBlocked.size + connBlocked.size || Date.now() - t0 > 20_000) return { r, d };
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const d = standing.d;
    assert.equal(standing.r.status, 0, standing.r.stderr);
    assert.deepEqual(
      d.blocks.map((b) => `${b.key} ${b.rule}`).sort(),
      [...[...authBlocked].map((k) => `${k} auth`), ...[...connBlocked].map((k) => `${k} conn`)].sort(),
    );
    assert.equal(d.blocks.find((b) => b.rule === 'auth')?.rejects, authRejects);
    assert.deepEqual(
      d.strikes.map((x) => x.key),
      [...authBlocked],
    );
    const h = d.health;
    assert.equal(h.reachable, true);
    assert.equal(h.packets, packets);
    assert.equal(h.auth_outcomes?.wire.failure, failures);
    assert.deepEqual(h.strikes, { wire: strikes, inferred: 0, log: 0 });
    assert.deepEqual(h.rejects, { auth: authRejects, conn: connRejects });
    assert.deepEqual(h.active_blocks, { auth: authBlocked.size, conn: connBlocked.size });
    assert.equal(h.blocker?.failed, 0);

    const txt = status(['--config', w.config, '--state-file', w.state, '--metrics', `127.0.0.1:${port}`]);
    assert.equal(txt.status, 0, txt.stderr);
    assert.match(txt.stdout, /^blocks standing: 2$/m);
    for (const k of authBlocked)
      assert.match(txt.stdout, new RegExp(`^  ${k.replace(/\./g, '\\.')} +auth +since .* ${authRejects} connections refused, level 0$`, 'm'));
    assert.match(txt.stdout, new RegExp(`^  capture: ${packets} packets .*dropped: buffer 0`, 'm'));
    assert.match(txt.stdout, new RegExp(`^  strikes: ${strikes} \\(wire ${strikes}, inferred 0, log 0\\)`, 'm'));
    assert.match(
      txt.stdout,
      new RegExp(`^  rejects: auth ${authRejects}, conn ${connRejects}; blocks started: auth 1, conn 1; standing: auth 1, conn 1$`, 'm'),
    );

    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
    // Watch gone: the state file still tells the blocks; the endpoint does not answer (exit 3).
    const gone = status(['--config', w.config, '--state-file', w.state, '--metrics', `127.0.0.1:${port}`]);
    assert.equal(gone.status, 3, gone.stdout + gone.stderr);
    assert.match(gone.stdout, /^blocks standing: 2$/m);
    assert.match(gone.stdout, /^watch: not reachable at http:\/\/127\.0\.0\.1:\d+\/metrics: connection refused/m);
    // No endpoint named: health unknown, exit 0.
    const unknown = status(['--config', w.config, '--state-file', w.state]);
    assert.equal(unknown.status, 0, unknown.stderr);
    assert.match(unknown.stdout, /^watch: health unknown/m);
  } finally {
    w.cleanup();
    t.cleanup();
  }
});

test('watch --metrics on pcaps/testbed/starttls.pcap: outcomes in clear and inferred inside TLS, opaque flows, as its truth says', async () => {
  type TlsTruth = Truth & { inside_tls: Record<string, { failures: number; successes: number; tempfails: number }> };
  const truth = JSON.parse(readFileSync('pcaps/testbed/starttls.truth.json', 'utf8')) as TlsTruth;
  const w = startWatch({ mode: 'runs', pcap: 'pcaps/testbed/starttls.pcap', args: ['--metrics', '127.0.0.1:0'], config: 'stats_interval: 3600\n' });
  try {
    const port = (await w.waitLog((l) => l.event === 'metrics_listening', 'metrics listening')).port as number;
    const sum = (
      f: (c: { failures: number; successes: number; tempfails: number }) => number,
      of: Record<string, { failures: number; successes: number; tempfails: number }>,
    ): number => Object.values(of).reduce((n, c) => n + f(c), 0);
    const inferredFailures = sum((c) => c.failures, truth.inside_tls);
    const inferredSuccesses = sum((c) => c.successes, truth.inside_tls);
    // Settled once every outcome (those inside TLS are inferred as their records pass) is counted.
    const all = sum((c) => c.failures + c.successes + c.tempfails, truth.clients) + inferredFailures + inferredSuccesses;
    const text = await scrapeUntil(port, (x) => sumOf(parsePromText(x), 'smtpstrike_auth_outcomes_total') === all, `${all} outcomes`);
    const s = parsePromText(text);
    assert.equal(
      sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'wire', outcome: 'failure' }),
      sum((c) => c.failures, truth.clients),
    );
    assert.equal(
      sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'wire', outcome: 'success' }),
      sum((c) => c.successes, truth.clients),
    );
    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'inferred', outcome: 'failure' }), inferredFailures);
    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'inferred', outcome: 'success' }), inferredSuccesses);
    assert.equal(
      sumOf(s, 'smtpstrike_strikes_total', { sensor: 'wire' }),
      sum((c) => c.failures, truth.clients),
    );
    assert.equal(sumOf(s, 'smtpstrike_strikes_total', { sensor: 'inferred' }), inferredFailures);
    assert.equal(sumOf(s, 'smtpstrike_opaque_flows_total'), truth.opaque_flows);
    for (const c of Object.keys(truth.clients)) assert.ok(!text.includes(c), `${c} is in no line`);
    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
  } finally {
    w.cleanup();
  }
});

/** A Postfix syslog stamp in the local zone (the watch child inherits this process's TZ). */
function pfStamp(ts: number): string {
  const d = new Date(ts * 1000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()]!;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${mon} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

test("watch --metrics --log: the log sensor's outcomes, strikes, lines, unread bytes and lag, labelled by file and never by address", async () => {
  // The zone pinned (for this process's stamps and the watch child's reading of them): no DST hour.
  const zone = process.env.TZ;
  process.env.TZ = 'UTC';
  const t = tempDir();
  const log = join(t.dir, 'mail.log');
  writeFileSync(log, '');
  const w = startWatch({ mode: 'runs', pcap: emptyPcap(t.dir), args: ['--metrics', '127.0.0.1:0', '--log', log], config: 'stats_interval: 3600\n' });
  try {
    const port = (await w.waitLog((l) => l.event === 'metrics_listening', 'metrics listening')).port as number;
    await w.waitLog((l) => l.event === 'logs_followed', 'the log followed');
    // Two failures written an hour ago (read late: placed at their own stamp), one unrelated line.
    const stamp = Math.floor(Date.now() / 1000) - 3600;
    const fail = (pid: number): string =>
      `${pfStamp(stamp)} mail postfix/submission/smtpd[${pid}]: warning: unknown[192.0.2.55]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice\n`;
    appendFileSync(log, fail(4242) + fail(4243) + `${pfStamp(stamp)} mail postfix/qmgr[77]: 4F2A1: removed\n`);
    const text = await scrapeUntil(
      port,
      (x) =>
        sumOf(parsePromText(x), 'smtpstrike_sensor_attempts_total', { seen_by: 'log_only' }) === 2 &&
        sumOf(parsePromText(x), 'smtpstrike_log_lines_total') === 3,
      'both attempts settled as seen by the log only',
    );
    const scrapedAt = Date.now() / 1000;
    const s = parsePromText(text);
    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'log', outcome: 'failure' }), 2);
    assert.equal(sumOf(s, 'smtpstrike_auth_outcomes_total', { sensor: 'wire' }), 0);
    assert.equal(sumOf(s, 'smtpstrike_strikes_total', { sensor: 'log' }), 2);
    assert.equal(sumOf(s, 'smtpstrike_log_lines_total', { source: log }), 3);
    assert.equal(sumOf(s, 'smtpstrike_log_unread_bytes', { source: log }), 0, 'everything written was read');
    const lag = s.find((x) => x.name === 'smtpstrike_log_lag_seconds' && x.labels.source === log)?.value;
    assert.ok(lag !== undefined && lag >= 3599 && lag <= scrapedAt - stamp + 1, `lag ${lag}: read about an hour after its stamp`);
    assert.ok(!text.includes('192.0.2.55'), 'the client is in no line');
    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
    w.cleanup();
    t.cleanup();
  }
});

test("a MetricsSource (the fleet's seam) adds its gauges to the page, read at scrape time; the reader reads them back", async () => {
  let up = 0;
  const fleet: MetricsSource = {
    register(r) {
      new Gauge({
        name: 'smtpstrike_fleet_up',
        help: 'test: 1 while the fleet is reachable',
        labelNames: ['backend'],
        registers: [r],
        collect() {
          this.set({ backend: 'redis' }, up);
        },
      });
    },
  };
  const registry = new Registry();
  fleet.register(registry);
  const server = new MetricsServer(registry);
  const at = await server.listen(parseListenAddress('127.0.0.1:0'));
  try {
    assert.equal(sumOf(parsePromText((await get(at.port)).body), 'smtpstrike_fleet_up', { backend: 'redis' }), 0);
    up = 1;
    const r = await get(at.port);
    assert.equal(r.status, 200);
    assert.equal(sumOf(parsePromText(r.body), 'smtpstrike_fleet_up', { backend: 'redis' }), 1, 'collected at the scrape, not when registered');
    assert.ok(declaredMetrics(r.body).has('smtpstrike_fleet_up'));
    const head = await get(at.port, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  } finally {
    await server.close();
  }
});

test('--metrics HOST:PORT: what is read, and what is refused with a reason', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress(':9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress('localhost:9464'), { host: 'localhost', port: 9464 });
  assert.deepEqual(parseListenAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  assert.throws(() => parseListenAddress(''), /empty metrics address; expected HOST:PORT/);
  assert.throws(() => parseListenAddress('127.0.0.1'), /port .* is not a number|no port/);
  assert.throws(() => parseListenAddress('127.0.0.1:65536'), /port "65536" is not a number from 0 to 65535/);
  assert.throws(() => parseListenAddress('127.0.0.1:http'), /port "http" is not a number/);
  assert.throws(() => parseListenAddress('::1:9464'), /write an IPv6 address in brackets, \[::1\]:9464/);
  assert.throws(() => parseListenAddress('[1.2.3.4]:9464'), /is not an IPv6 address/);
  assert.throws(() => parseListenAddress('bad host:9464'), /neither an address nor a host name/);
});

test('watch refuses a bad --metrics, a bad metrics: in the config, and a port in use, before touching anything', async () => {
  const cli = spawnSync(process.execPath, [CLI, 'watch', '--metrics', '127.0.0.1:99999', '--dry-run'], { encoding: 'utf8' });
  assert.equal(cli.status, 1);
  assert.match(cli.stderr, /--metrics <host:port>'? argument '127\.0\.0\.1:99999' is invalid.*port "99999" is not a number from 0 to 65535/s);

  const t = tempDir();
  try {
    const config = join(t.dir, 'config.yaml');
    writeFileSync(config, 'metrics: "nowhere"\n');
    const bad = spawnSync(process.execPath, [CLI, 'watch', '--config', config, '--dry-run', '--state-file', join(t.dir, 's.json')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^smtpstrike: bad config: metrics: "nowhere": no port; expected HOST:PORT/m);

    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const w = startWatch({ mode: 'runs', pcap: join(t.dir, 'none.pcap'), args: ['--metrics', `127.0.0.1:${port}`] });
    try {
      assert.equal(await w.exitWithin(), 1, w.stderr());
      assert.match(w.stderr(), new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: the port is in use`));
      assert.ok(!w.log().some((l) => l.event === 'start'), 'watch never started capturing');
    } finally {
      w.cleanup();
      busy.close();
    }
  } finally {
    t.cleanup();
  }
});
