/**
 * The CrowdSec client's own rules against a scripted fake LAPI (node:http on a loopback port):
 * User-Agent, login and token refresh, 401 → one new login, backoff, the bounded persisted queue,
 * a refused alert split out of its batch, and the bouncer's handling of the decision stream.
 * The real LAPI is in crowdsec-lapi.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { blockToAlert, keyScope, type CrowdsecBlock } from '../src/fleet/crowdsec-alert.js';
import { CrowdsecBouncer, type CrowdsecBan } from '../src/fleet/crowdsec-bouncer.js';
import { parseCrowdsecConfig } from '../src/fleet/crowdsec-config.js';
import { CrowdsecLink } from '../src/fleet/crowdsec-link.js';
import { formatGoSeconds, parseGoDuration } from '../src/fleet/crowdsec-duration.js';
import { LapiHttp, smtpstrikeUserAgent } from '../src/fleet/crowdsec-http.js';
import type { CrowdsecLog } from '../src/fleet/crowdsec-log.js';
import { OwnPushes } from '../src/fleet/crowdsec-own-pushes.js';
import { CrowdsecPusher } from '../src/fleet/crowdsec-pusher.js';
import { QUEUE_FILE } from '../src/fleet/crowdsec-queue.js';
import { freePort } from './support/crowdsec-lapi.js';
import { tempDir } from './support/synth.js';
import { waitFor } from './support/wait.js';

// pino's Logger is what watch will pass: it must fit the module's log interface.
export const pinoFits = (l: Logger): CrowdsecLog => l;

interface Seen {
  method: string;
  url: string;
  ua: string;
  auth: string;
  apiKey: string;
  body: unknown;
  at: number;
}
type Handler = (req: Seen, res: ServerResponse) => void;

async function fakeLapi(handler: Handler): Promise<{ url: string; seen: Seen[]; close: () => Promise<void>; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c: Buffer) => {
      data += c.toString();
    });
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        ua: req.headers['user-agent'] ?? '',
        auth: req.headers.authorization ?? '',
        apiKey: String(req.headers['x-api-key'] ?? ''),
        body: data ? JSON.parse(data) : null,
        at: Date.now(),
      };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const send = (res: ServerResponse, code: number, body: unknown): void => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

const blk = (key: string, from: number, secs = 600, rule: 'auth' | 'conn' = 'auth'): CrowdsecBlock => ({
  key,
  client: key.split('/')[0]!,
  rule,
  from,
  until: from + secs,
});
const nowS = (): number => Math.floor(Date.now() / 1000);

test('Go durations: what the LAPI prints and what we send', () => {
  assert.equal(parseGoDuration('4h'), 14400);
  assert.equal(parseGoDuration('1h0m0s'), 3600);
  assert.ok(Math.abs(parseGoDuration('59m59.004585667s')! - 3599.004585667) < 1e-6);
  assert.ok(Math.abs(parseGoDuration('-1.5s')! + 1.5) < 1e-9);
  assert.equal(parseGoDuration('250ms'), 0.25);
  assert.ok(Math.abs(parseGoDuration('3µs')! - 3e-6) < 1e-12);
  assert.equal(parseGoDuration('0'), 0);
  for (const bad of ['', '-', 'h', '5', '1.2.3s', '5d', '1h 2m']) assert.equal(parseGoDuration(bad), null, bad);
  assert.equal(formatGoSeconds(1200.4), '1200s');
  assert.equal(formatGoSeconds(-3), '0s');
});

test('alert JSON: one ban decision, Ip or Range, stop_at = block start, duration = block length', () => {
  assert.equal(keyScope('192.0.2.1'), 'Ip');
  assert.equal(keyScope('2001:db8::1'), 'Ip');
  assert.equal(keyScope('2001:db8::/64'), 'Range');
  assert.equal(keyScope('2001:db8::/129'), null);
  assert.equal(keyScope('2001:db8::/6x'), null);
  assert.equal(keyScope('host.example'), null);
  assert.equal(keyScope('2001:db8::1/128'), 'Ip');
  assert.equal(keyScope('0.0.0.0/0'), null, 'a /0 is never a block');
  assert.equal(keyScope('::/0'), null);
  const one = blockToAlert({ key: '2001:DB8:0::1/128', client: '2001:db8::1', rule: 'auth', from: 1764907740, until: 1764908940 }, { scenarioVersion: 'x' });
  assert.deepEqual(one.source, { scope: 'Ip', value: '2001:db8::1', ip: '2001:db8::1' }, 'value printed as the bouncer reads it back');
  const a = blockToAlert(
    { key: '2001:db8:5::/64', client: '2001:db8:5::7', rule: 'conn', from: 1764907740, until: 1764908340, hits: 6, windowS: 60 },
    { scenarioVersion: '1.2.3' },
  );
  assert.equal(a.scenario, 'smtpstrike/smtp-conn-flood');
  assert.equal(a.start_at, '2025-12-05T04:09:00Z');
  assert.equal(a.stop_at, '2025-12-05T04:09:00Z');
  assert.deepEqual(a.source, { scope: 'Range', value: '2001:db8:5::/64', ip: '2001:db8:5::7', range: '2001:db8:5::/64' });
  assert.deepEqual(a.decisions, [
    { origin: 'crowdsec', type: 'ban', scope: 'Range', value: '2001:db8:5::/64', duration: '600s', scenario: 'smtpstrike/smtp-conn-flood' },
  ]);
  assert.equal(a.events_count, 6);
  assert.equal(a.leakspeed, '60s');
  assert.equal(a.simulated, false);
  assert.deepEqual(a.events, []);
});

test('User-Agent is NAME/VERSION (the LAPI login refuses anything else)', () => {
  assert.match(smtpstrikeUserAgent(), /^smtpstrike\/[^/]+$/);
  assert.equal(smtpstrikeUserAgent('1.0/beta'), 'smtpstrike/1.0-beta');
  assert.throws(() => new LapiHttp({ url: 'http://127.0.0.1:1', userAgent: 'smtpstrike' }), /NAME\/VERSION/);
  assert.throws(() => new LapiHttp({ url: 'ftp://x', userAgent: 'a/b' }), /http/);
});

test('login: UA and credentials sent, token reused until 5 min before expiry, a 401 logs in once more', async () => {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let tokenN = 0;
  let refuseToken = '';
  const lapi = await fakeLapi((s, res) => {
    if (s.url === '/v1/watchers/login') {
      tokenN++;
      return send(res, 200, { code: 200, expire: new Date(clock + 3_600_000).toISOString(), token: `tok${tokenN}` });
    }
    if (s.url === '/v1/alerts') {
      if (s.auth === `Bearer ${refuseToken}`) return send(res, 401, { code: 401, message: 'Token is expired' });
      return send(
        res,
        201,
        (s.body as unknown[]).map((_, i) => String(i + 1)),
      );
    }
    send(res, 404, {});
  });
  const t = tempDir();
  const p = new CrowdsecPusher({
    http: new LapiHttp({ url: lapi.url, userAgent: 'smtpstrike/9.9.9' }),
    credentials: { machineId: 'mx1', password: 'pw' },
    stateDir: t.dir,
    flushDelayMs: 1,
    now: () => clock,
  });
  try {
    p.start();
    p.push(blk('192.0.2.1', nowS()));
    await waitFor(() => p.stats.pushed === 1, 'first push');
    const login = lapi.seen.find((s) => s.url === '/v1/watchers/login')!;
    assert.equal(login.ua, 'smtpstrike/9.9.9');
    assert.deepEqual(login.body, { machine_id: 'mx1', password: 'pw', scenarios: ['smtpstrike/smtp-auth-bf', 'smtpstrike/smtp-conn-flood'] });
    clock += 54 * 60_000; // 54 min: token still good
    p.push(blk('192.0.2.2', nowS()));
    await waitFor(() => p.stats.pushed === 2, 'second push');
    assert.equal(p.login.stats.logins, 1);
    clock += 2 * 60_000; // 56 min: inside the 5 min margin → new login
    p.push(blk('192.0.2.3', nowS()));
    await waitFor(() => p.stats.pushed === 3, 'third push');
    assert.equal(p.login.stats.logins, 2);
    refuseToken = 'tok2'; // the LAPI restarted with a new secret: 401 → login → retry
    p.push(blk('192.0.2.4', nowS()));
    await waitFor(() => p.stats.pushed === 4, 'fourth push after a 401');
    assert.equal(p.login.stats.logins, 3);
    assert.equal(p.stats.failures, 0);
    assert.ok(lapi.seen.filter((s) => s.url === '/v1/alerts').every((s) => s.ua === 'smtpstrike/9.9.9'));
  } finally {
    await p.stop();
    await lapi.close();
    t.cleanup();
  }
});

test('LAPI down: exponential backoff capped, the queue bounded (oldest dropped, counted) and saved; reloaded by the next run', async () => {
  const port = await freePort(); // nothing listens: connection refused
  const t = tempDir();
  const mk = (maxQueue: number): CrowdsecPusher =>
    new CrowdsecPusher({
      http: new LapiHttp({ url: `http://127.0.0.1:${port}`, userAgent: 'smtpstrike/t' }),
      credentials: { machineId: 'm', password: 'p' },
      stateDir: t.dir,
      maxQueue,
      flushDelayMs: 1,
      backoffBaseMs: 20,
      backoffMaxMs: 160,
      saveEveryMs: 10,
      random: () => 1,
    });
  const p = mk(3);
  const delays = new Map<number, number>();
  try {
    p.start();
    const from = nowS();
    for (let i = 1; i <= 5; i++) p.push(blk(`192.0.2.${i}`, from));
    assert.equal(p.queued, 3);
    assert.equal(p.queue.counters.dropped, 2);
    assert.deepEqual(
      p.queue.peek(10).map((b) => b.key),
      ['192.0.2.3', '192.0.2.4', '192.0.2.5'],
    );
    await waitFor(
      () => {
        delays.set(p.stats.consecutiveFailures, p.stats.lastBackoffMs);
        return p.stats.consecutiveFailures >= 6;
      },
      'six failures',
      10_000,
      1,
    );
    // random() = 1: the delay is the cap itself: 20, 40, 80, 160, 160, 160 after failure 1..6.
    const want = [0, 20, 40, 80, 160, 160, 160];
    assert.ok(delays.size >= 3, 'several failures seen');
    for (const [n, d] of delays) if (n >= 1 && n <= 6) assert.equal(d, want[n], `delay after failure ${n}`);
    assert.match(p.stats.lastError ?? '', /ECONNREFUSED/);
    p.push({ key: 'not-an-ip', client: '192.0.2.9', rule: 'auth', from, until: from + 10 });
    assert.equal(p.stats.invalid, 1);
  } finally {
    await p.stop();
  }
  const saved = JSON.parse(readFileSync(join(t.dir, QUEUE_FILE), 'utf8')) as { blocks: CrowdsecBlock[] };
  assert.deepEqual(
    saved.blocks.map((b) => b.key),
    ['192.0.2.3', '192.0.2.4', '192.0.2.5'],
  );
  // The next run: the saved queue is loaded; an expired entry and a damaged one are dropped, counted.
  saved.blocks.push(blk('192.0.2.77', nowS() - 7200, 60), { key: 'x' } as unknown as CrowdsecBlock);
  writeFileSync(join(t.dir, QUEUE_FILE), JSON.stringify(saved));
  const q = mk(10);
  try {
    q.start();
    assert.equal(q.queue.counters.badEntries, 1);
    await waitFor(() => q.stats.failures >= 1, 'a first try');
    assert.equal(q.queued, 3);
    assert.equal(q.queue.counters.expired, 1);
  } finally {
    await q.stop();
    t.cleanup();
  }
});

test('a refused alert is split out of its batch and dropped alone (counted); the rest go through', async () => {
  const accepted: string[] = [];
  const lapi = await fakeLapi((s, res) => {
    if (s.url === '/v1/watchers/login') return send(res, 200, { code: 200, expire: new Date(Date.now() + 3_600_000).toISOString(), token: 't' });
    const alerts = s.body as { source: { value: string } }[];
    if (alerts.some((a) => a.source.value === '192.0.2.66')) return send(res, 400, { message: 'invalid addr/range' });
    accepted.push(...alerts.map((a) => a.source.value));
    send(
      res,
      201,
      alerts.map((_, i) => String(i)),
    );
  });
  const t = tempDir();
  const p = new CrowdsecPusher({
    http: new LapiHttp({ url: lapi.url, userAgent: 'smtpstrike/t' }),
    credentials: { machineId: 'm', password: 'p' },
    stateDir: t.dir,
    flushDelayMs: 20,
    batchSize: 10,
  });
  try {
    p.start();
    const from = nowS();
    for (const k of ['192.0.2.1', '192.0.2.66', '192.0.2.3', '192.0.2.4']) p.push(blk(k, from));
    await waitFor(() => p.queued === 0, 'queue empty');
    assert.deepEqual(accepted.sort(), ['192.0.2.1', '192.0.2.3', '192.0.2.4']);
    assert.equal(p.stats.rejected, 1);
    assert.equal(p.stats.pushed, 3);
    // Back to batches after the split.
    for (const k of ['192.0.2.11', '192.0.2.12', '192.0.2.13']) p.push(blk(k, from));
    const posts = lapi.seen.filter((s) => s.url === '/v1/alerts').length;
    await waitFor(() => p.stats.pushed === 6, 'three more');
    assert.equal(lapi.seen.filter((s) => s.url === '/v1/alerts').length, posts + 1, 'one POST for the three');
  } finally {
    await p.stop();
    await lapi.close();
    t.cleanup();
  }
});

test('overflow while a batch is in flight: the blocks queued meanwhile are not lost with it; flush() sends at once', async () => {
  const got: string[] = [];
  let hold: (() => void) | null = null;
  const lapi = await fakeLapi((s, res) => {
    if (s.url === '/v1/watchers/login') return send(res, 200, { code: 200, expire: new Date(Date.now() + 3_600_000).toISOString(), token: 't' });
    const keys = (s.body as { source: { value: string } }[]).map((a) => a.source.value);
    const answer = (): void => {
      got.push(...keys);
      send(res, 201, keys.map(String));
    };
    if (got.length === 0 && hold === null)
      hold = answer; // the first POST waits until released
    else answer();
  });
  const t = tempDir();
  const p = new CrowdsecPusher({
    http: new LapiHttp({ url: lapi.url, userAgent: 'smtpstrike/t' }),
    credentials: { machineId: 'm', password: 'p' },
    stateDir: t.dir,
    maxQueue: 2,
    flushDelayMs: 60_000,
  });
  try {
    p.start();
    const from = nowS();
    p.push(blk('192.0.2.1', from));
    p.push(blk('192.0.2.2', from));
    const first = p.flush(); // no 60 s wait
    await waitFor(() => hold !== null, 'the first POST in flight');
    for (const k of ['192.0.2.3', '192.0.2.4', '192.0.2.5']) p.push(blk(k, from));
    assert.equal(p.queue.counters.dropped, 3);
    hold!();
    await first;
    await p.flush();
    assert.deepEqual(got, ['192.0.2.1', '192.0.2.2', '192.0.2.4', '192.0.2.5']);
    assert.equal(p.queued, 0);
  } finally {
    await p.stop();
    await lapi.close();
    t.cleanup();
  }
});

test('bouncer: startup then deltas, bans handed, own/protected/non-ban/other scopes skipped, unban only when the last decision of a value ends', async () => {
  const rounds: unknown[] = [
    {
      new: [
        { id: 1, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.51.100.1', duration: '3h59m58.5s', scenario: 'smtpstrike/smtp-auth-bf' },
        { id: 2, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '192.0.2.50', duration: '10m', scenario: 'smtpstrike/smtp-auth-bf' },
        { id: 3, origin: 'cscli', type: 'captcha', scope: 'Ip', value: '198.51.100.2', duration: '1h', scenario: 'x' },
        { id: 4, origin: 'cscli', type: 'ban', scope: 'Country', value: 'FR', duration: '1h', scenario: 'x' },
        { id: 5, origin: 'cscli', type: 'ban', scope: 'Ip', value: '10.9.9.9', duration: '1h', scenario: 'x' },
        { id: 6, origin: 'CAPI', type: 'ban', scope: 'Range', value: '2001:DB8:0:0::/48', duration: '2h', scenario: 'x' },
        { id: 7, origin: 'cscli', type: 'ban', scope: 'Ip', value: 'bogus', duration: '1h', scenario: 'x' },
        { id: 10, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '2001:db8::7', duration: '1h', scenario: 'smtpstrike/smtp-auth-bf' },
        { id: 9, origin: 'lists', type: 'ban', scope: 'Range', value: '::/0', duration: '1h', scenario: 'x' },
      ],
      deleted: null,
    },
    {
      new: [{ id: 8, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.51.100.1', duration: '1h', scenario: 'smtpstrike/smtp-conn-flood' }],
      deleted: null,
    },
    {
      new: null,
      deleted: [{ id: 1, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.51.100.1', duration: '-2s', scenario: 'smtpstrike/smtp-auth-bf' }],
    },
    {
      new: null,
      deleted: [
        { id: 8, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.51.100.1', duration: '-1s', scenario: 'smtpstrike/smtp-conn-flood' },
        { id: 99, origin: 'x', type: 'ban', scope: 'Ip', value: '203.0.113.1', duration: '-1s', scenario: 'x' },
      ],
    },
  ];
  let n = 0;
  const lapi = await fakeLapi((s, res) => {
    if (s.apiKey !== 'key') return send(res, 403, { message: 'access forbidden' });
    send(res, 200, rounds[n++] ?? { new: null, deleted: null });
  });
  const own = new OwnPushes();
  own.add('192.0.2.50', Date.now() + 600_000);
  own.add('2001:DB8:0:0:0:0:0:7', Date.now() + 600_000); // pushed in another spelling: still ours
  const bans: CrowdsecBan[] = [];
  const unbans: CrowdsecBan[] = [];
  const b = new CrowdsecBouncer({
    http: new LapiHttp({ url: lapi.url, userAgent: 'smtpstrike/t' }),
    apiKey: 'key',
    ownPushes: own,
    onBan: (x) => bans.push(x),
    onUnban: (x) => unbans.push(x),
    mayApply: (x) => !x.value.startsWith('10.'),
    origins: ['crowdsec', 'cscli'],
  });
  try {
    await b.pollNow();
    assert.match(lapi.seen[0]!.url, /startup=true/);
    assert.match(lapi.seen[0]!.url, /scopes=ip%2Crange/);
    assert.match(lapi.seen[0]!.url, /origins=crowdsec%2Ccscli/);
    assert.equal(lapi.seen[0]!.ua, 'smtpstrike/t');
    assert.deepEqual(
      bans.map((x) => [x.value, x.scope, x.family, x.prefix]),
      [
        ['198.51.100.1', 'Ip', 4, 32],
        ['2001:db8::/48', 'Range', 6, 48],
      ],
    );
    assert.ok(Math.abs(bans[0]!.durationS - 14398.5) < 1e-6);
    assert.deepEqual([b.stats.skippedOwn, b.stats.skippedType, b.stats.skippedScope, b.stats.skippedProtected, b.stats.badDecisions], [2, 1, 1, 1, 2]);
    await b.pollNow();
    assert.match(lapi.seen[1]!.url, /startup=false/);
    assert.equal(bans.length, 3, 'a second decision for the same address is handed (it may last longer)');
    await b.pollNow();
    assert.equal(unbans.length, 0, 'decision 8 still bans 198.51.100.1');
    await b.pollNow();
    assert.deepEqual(
      unbans.map((x) => x.value),
      ['198.51.100.1'],
    );
    assert.equal(b.stats.deletionsIgnored, 2);
    assert.equal(b.stats.failures, 0);
  } finally {
    await b.stop();
    await lapi.close();
  }
});

test('bouncer: a wrong key or a dead LAPI is a counted failure with backoff, never a throw', async () => {
  const lapi = await fakeLapi((_s, res) => send(res, 403, { message: 'access forbidden' }));
  const warned: string[] = [];
  const b = new CrowdsecBouncer({
    http: new LapiHttp({ url: lapi.url, userAgent: 'smtpstrike/t' }),
    apiKey: 'wrong',
    intervalMs: 10,
    maxBackoffMs: 40,
    onBan: () => assert.fail('no ban'),
    onUnban: () => assert.fail('no unban'),
    log: { info: () => {}, warn: (o) => warned.push(JSON.stringify(o)) },
  });
  try {
    b.start();
    await waitFor(() => b.stats.failures >= 4, 'four failed polls', 5000);
    assert.match(b.stats.lastError ?? '', /HTTP 403 access forbidden/);
    assert.match(warned[0] ?? '', /bouncer_key/);
    assert.equal(b.stats.polls, 0);
  } finally {
    await b.stop();
    await lapi.close();
  }
});

test('config `crowdsec: {url, machine_id, password, bouncer_key}` checked; unknown keys and half credentials refused', () => {
  assert.deepEqual(parseCrowdsecConfig({ url: 'http://127.0.0.1:8080', machine_id: 'mx1', password: 'pw', bouncer_key: 'k' }), {
    url: 'http://127.0.0.1:8080',
    machineId: 'mx1',
    password: 'pw',
    bouncerKey: 'k',
    pollInterval: 10,
    maxQueue: 10000,
  });
  assert.deepEqual(parseCrowdsecConfig({ url: 'https://lapi:8080/', bouncer_key: 'k', poll_interval: 2, origins: ['crowdsec', 'cscli'] }), {
    url: 'https://lapi:8080/',
    bouncerKey: 'k',
    pollInterval: 2,
    maxQueue: 10000,
    origins: ['crowdsec', 'cscli'],
  });
  assert.throws(() => parseCrowdsecConfig({ url: 'http://x', machine_id: 'm' }), /go together/);
  assert.throws(() => parseCrowdsecConfig({ url: 'http://x' }), /machine_id and password .* bouncer_key/);
  assert.throws(() => parseCrowdsecConfig({ url: 'http://x', bouncer_key: 'k', bouncerkey: 'k' }), /crowdsec.bouncerkey: unknown key/);
  assert.throws(() => parseCrowdsecConfig({ url: 'redis://x', bouncer_key: 'k' }), /http/);
  assert.throws(() => parseCrowdsecConfig({ bouncer_key: 'k' }), /crowdsec.url: missing/);
  assert.throws(() => parseCrowdsecConfig({ url: 'http://x', bouncer_key: 'k', poll_interval: 0 }), /poll_interval/);
  assert.throws(() => parseCrowdsecConfig({ url: 'http://x', bouncer_key: 'k', origins: ['a,b'] }), /origins/);
  assert.throws(() => parseCrowdsecConfig('http://x'), /mapping/);
});

test('CrowdsecLink: a BlockEvent goes out as an alert; the same ban coming back on the stream is ours and skipped', async () => {
  const pushed: { value: string; scenario: string }[] = [];
  const lapi = await fakeLapi((s, res) => {
    if (s.url === '/v1/watchers/login') return send(res, 200, { code: 200, expire: new Date(Date.now() + 3_600_000).toISOString(), token: 't' });
    if (s.url === '/v1/alerts') {
      for (const a of s.body as { decisions: { value: string; scenario: string }[] }[]) pushed.push(a.decisions[0]!);
      return send(res, 201, ['1']);
    }
    send(res, 200, {
      new: pushed.map((d, i) => ({ id: i + 1, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: d.value, duration: '10m', scenario: d.scenario })),
      deleted: null,
    });
  });
  const t = tempDir();
  const bans: CrowdsecBan[] = [];
  const link = new CrowdsecLink({
    config: parseCrowdsecConfig({ url: lapi.url, machine_id: 'mx1', password: 'pw', bouncer_key: 'k', poll_interval: 3600 }),
    stateDir: t.dir,
    onBan: (b) => bans.push(b),
    onUnban: () => {},
    mayApply: () => true,
    version: '7.7.7',
  });
  try {
    link.start();
    const from = nowS();
    link.block(
      { type: 'block', ts: from, client: '192.0.2.44', key: '192.0.2.44', rule: 'auth', from, until: from + 1200, level: 0 },
      { hits: 3, windowS: 1200 },
    );
    await waitFor(() => link.stats().push?.pushed === 1, 'pushed');
    assert.deepEqual(pushed, [{ origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '192.0.2.44', duration: '1200s', scenario: 'smtpstrike/smtp-auth-bf' }]);
    assert.ok(lapi.seen.every((s) => s.ua === 'smtpstrike/7.7.7'));
    await link.bouncer!.pollNow();
    assert.equal(bans.length, 0);
    assert.equal(link.stats().bouncer?.skippedOwn, 1);
  } finally {
    await link.stop();
    await lapi.close();
    t.cleanup();
  }
});
