import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { parseFleetUrl, RedisFleet, type FleetBlock, type FleetOptions, type FleetThreshold } from '../src/fleet/index.js';
import { runWindowHit, type WindowHitArgs } from '../src/fleet/window-script.js';
import { StampRings } from '../src/strikes/recent-list.js';
import { FreezableProxy } from './support/freezable-proxy.js';
import { haveRedisServer, RedisServer } from './support/redis-server.js';
import { waitFor } from './support/wait.js';

/**
 * The fleet module (src/fleet) against a real redis-server started here on a loopback port. No
 * timing assertions: every wait is for an outcome, with a generous deadline.
 */

const skip = haveRedisServer() ? false : 'redis-server not installed (scripts/install-deps.sh fleet)';
const LONG = 30_000;

interface TestHost {
  name: string;
  fleet: RedisFleet;
  thresholds: FleetThreshold[];
  remote: FleetBlock[];
  logs: { level: string; obj: object; msg: string }[];
}

const hosts: TestHost[] = [];

function host(name: string, url: string, extra: Partial<FleetOptions> = {}): TestHost {
  const h: TestHost = { name, thresholds: [], remote: [], logs: [], fleet: null as unknown as RedisFleet };
  const log = (level: string) => (obj: object, msg: string) => void h.logs.push({ level, obj, msg });
  h.fleet = new RedisFleet({
    url,
    host: name,
    auth: { hitcount: 3, seconds: 1200 },
    conn: { hitcount: 6, seconds: 60 },
    // Generous: a loaded CI machine must not be taken for a slow Redis (the slow test pauses Redis).
    budgetMs: 5000,
    probeMs: 100,
    onThreshold: (t) => h.thresholds.push(t),
    onRemoteBlock: (b) => h.remote.push(b),
    mayBlock: () => true,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    redisOptions: { retryStrategy: () => 50 },
    ...extra,
  });
  h.fleet.start();
  hosts.push(h);
  return h;
}

async function closeAll(): Promise<void> {
  await Promise.all(hosts.splice(0).map((h) => h.fleet.close()));
}

const now = (): number => Date.now() / 1000;

describe('fleet URL', () => {
  it('reads redis://, rediss:// and redis+sentinel:// and never shows the password', () => {
    const a = parseFleetUrl('redis://:s3cret@10.0.0.5:6380/2');
    assert.equal(a.options.host, '10.0.0.5');
    assert.equal(a.options.port, 6380);
    assert.equal(a.options.db, 2);
    assert.equal(a.options.password, 's3cret');
    assert.equal(a.options.tls, undefined);
    assert.equal(a.redacted, 'redis://:***@10.0.0.5:6380/2');
    const b = parseFleetUrl('rediss://fleet:pw@redis.example.net');
    assert.equal(b.options.username, 'fleet');
    assert.equal(b.options.port, 6379);
    assert.equal(b.options.db, 0);
    assert.deepEqual(b.options.tls, { servername: 'redis.example.net' });
    assert.ok(!b.redacted.includes('pw'));
    const c = parseFleetUrl('redis+sentinel://:pw@s1:26380,[2001:db8::1],s3/mymaster/1');
    assert.deepEqual(c.options.sentinels, [
      { host: 's1', port: 26380 },
      { host: '2001:db8::1', port: 26379 },
      { host: 's3', port: 26379 },
    ]);
    assert.equal(c.options.name, 'mymaster');
    assert.equal(c.options.db, 1);
    const d = parseFleetUrl('redis://[::1]:7000');
    assert.equal(d.options.host, '::1');
    assert.equal(d.options.port, 7000);
    for (const bad of ['http://x', 'redis://a:1,b:2/0', 'redis://h/x', 'redis+sentinel://s1', 'redis://h:99999']) {
      assert.throws(() => parseFleetUrl(bad), /fleet URL/, bad);
    }
    assert.throws(
      () => parseFleetUrl('redis://:topsecret@h/x'),
      (e: Error) => !e.message.includes('topsecret'),
    );
  });
});

describe('fleet without Redis', () => {
  it('decides locally before Redis is reached, with the RecentList semantic, and bounds its journal', async () => {
    const thresholds: FleetThreshold[] = [];
    const f = new RedisFleet({
      url: 'redis://127.0.0.1:1/0',
      host: 'solo',
      auth: { hitcount: 3, seconds: 1200 },
      conn: { hitcount: 6, seconds: 60 },
      maxJournal: 4,
      onThreshold: (t) => {
        thresholds.push(t);
        throw new Error('a callback that throws');
      },
      onRemoteBlock() {},
      mayBlock: () => true,
    });
    try {
      assert.equal(f.health, 'connecting');
      const t = 1_700_000_000;
      f.hit('auth', '192.0.2.1', '192.0.2.1', t);
      f.hit('auth', '192.0.2.1', '192.0.2.1', t + 600);
      assert.equal(thresholds.length, 0);
      f.hit('auth', '192.0.2.1', '192.0.2.1', t + 1200); // the first is exactly 1200 s old: still counts
      assert.equal(thresholds.length, 1, 'the third within the window blocks (the callback threw: no harm)');
      assert.equal(thresholds[0]!.source, 'local');
      assert.equal(thresholds[0]!.untilMs, (t + 1200) * 1000 + 1_200_000);
      f.hit('auth', '192.0.2.2', '192.0.2.2', t);
      f.hit('auth', '192.0.2.2', '192.0.2.2', t + 1);
      f.hit('auth', '192.0.2.2', '192.0.2.2', t + 1200.5); // the first is older than the window
      assert.equal(thresholds.length, 1);
      assert.equal(f.localCount('auth', '192.0.2.2', t + 1200.5), 2);
      assert.equal(f.stats.localHits, 6);
      assert.equal(f.queued, 4, 'the journal keeps maxJournal hits');
      assert.equal(f.stats.journalDropped, 2);
    } finally {
      await f.close();
    }
    assert.equal(f.health, 'closed');
    f.hit('auth', '192.0.2.3', '192.0.2.3', 1); // after close: ignored, no throw
  });
});

describe('fleet on a real redis-server', { skip, timeout: 120_000 }, () => {
  let server: RedisServer;
  const rejections: unknown[] = [];
  const onRejection = (e: unknown): void => void rejections.push(e);

  before(async () => {
    process.on('unhandledRejection', onRejection);
    server = await RedisServer.start();
  });
  after(async () => {
    await closeAll();
    await server?.stop();
    process.off('unhandledRejection', onRejection);
    assert.deepEqual(rejections, [], 'no unhandled rejection');
  });

  it('window script: a hit exactly `seconds` older than the newest still counts, one a ms older does not', async () => {
    const r = new Redis(server.url);
    try {
      const t = Date.now();
      const w = 1_200_000;
      const args = (key: string, ts: number, member: string, hitcount = 3): WindowHitArgs => [
        [`t:w:auth:${key}`, `t:b:${key}`, 't:blocks'],
        [ts, w, member, hitcount, 64, w, Date.now(), w / 4, 100, 'h', 'auth', key, key],
      ];
      assert.equal((await runWindowHit(r, args('a', t - w, 'm1'))).count, 1);
      assert.equal((await runWindowHit(r, args('a', t, 'm2'))).count, 2, 'exactly a window apart: both count');
      assert.equal((await runWindowHit(r, args('a', t + 1, 'm3'))).count, 2, 'the first is now a window + 1 ms old: trimmed');
      assert.equal(await r.zcard('t:w:auth:a'), 2, 'trimmed');
      // The same member again (a resend) counts once.
      assert.equal((await runWindowHit(r, args('a', t + 1, 'm3'))).count, 2);
      const ttl = await r.pttl('t:w:auth:a');
      assert.ok(ttl > 0 && ttl <= w, `PEXPIRE = the window (${ttl})`);
      // Threshold: the third hit publishes; the fourth (same block) does not publish again.
      const x = await runWindowHit(r, args('a', t + 2, 'm4'));
      assert.equal(x.count, 3);
      assert.equal(x.untilMs, t + 2 + w);
      assert.equal(x.published, true);
      assert.equal((await runWindowHit(r, args('a', t + 3, 'm5'))).published, false);
      const entries = await r.xrange('t:blocks', '-', '+');
      assert.equal(entries.length, 1);
      // A late hit (replayed) counts in the windows of the later hits that would have held it.
      await runWindowHit(r, args('b', t + 10_000, 'n2'));
      await runWindowHit(r, args('b', t + 20_000, 'n3'));
      const late = await runWindowHit(r, args('b', t, 'n1'));
      assert.equal(late.count, 3);
      assert.equal(late.untilMs, t + 20_000 + w, 'the block runs from the last hit of the window');
      assert.equal(late.published, true);
      // …but not hits more than a window away from each other.
      await runWindowHit(r, args('c', t - w - 1, 'o1'));
      await runWindowHit(r, args('c', t + 5, 'o3'));
      assert.equal((await runWindowHit(r, args('c', t, 'o2'))).count, 2);
    } finally {
      r.disconnect();
    }
  });

  it("window script = the strike engine's RecentList on any in-order sequence of hits", async () => {
    const r = new Redis(server.url);
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 5000 }),
          fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 40 }),
          async (hitcount, windowMs, gaps) => {
            const key = `prop${run++}`;
            const ring = new StampRings(hitcount, 1);
            let ts = 1_700_000_000_000;
            for (let i = 0; i < gaps.length; i++) {
              ts += gaps[i]!;
              ring.add(0, ts);
              const want = ring.hitsWithin(0, ts, windowMs); // the engine's count (at most hitcount)
              const got = await runWindowHit(r, [
                [`p:w:auth:${key}`, `p:b:${key}`, 'p:blocks'],
                [ts, windowMs, `m${i}`, hitcount, 64, 1000, ts + 10_000, 250, 100, 'h', 'auth', key, key],
              ]);
              assert.equal(Math.min(got.count, hitcount), want, `hit ${i} at +${ts - 1_700_000_000_000} ms`);
              assert.equal(got.untilMs > 0, want >= hitcount, 'threshold where the engine has one');
            }
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      r.disconnect();
    }
  });

  it('three hosts, one failure each: the third reaches the threshold fleet-wide and all three block', async () => {
    const [a, b, c] = [host('mx1', server.url), host('mx2', server.url), host('mx3', server.url)];
    await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'all hosts ok', LONG);
    const attacker = '198.51.100.7';
    a.fleet.hit('auth', attacker, attacker, now());
    await waitFor(() => a.fleet.stats.fleetHits === 1, 'mx1 hit landed', LONG);
    b.fleet.hit('auth', attacker, attacker, now());
    await waitFor(() => b.fleet.stats.fleetHits === 1, 'mx2 hit landed', LONG);
    assert.equal(a.thresholds.length + b.thresholds.length, 0, 'two failures block nobody');
    c.fleet.hit('auth', attacker, attacker, now());
    await waitFor(() => c.thresholds.length === 1, 'mx3 reaches the threshold', LONG);
    assert.equal(c.thresholds[0]!.source, 'fleet');
    assert.equal(c.thresholds[0]!.count, 3);
    assert.equal(c.thresholds[0]!.published, true);
    await waitFor(() => a.remote.length === 1 && b.remote.length === 1, 'mx1 and mx2 get the block', LONG);
    for (const h of [a, b]) {
      assert.equal(h.remote[0]!.key, attacker);
      assert.equal(h.remote[0]!.host, 'mx3');
      assert.equal(h.remote[0]!.rule, 'auth');
      assert.ok(h.remote[0]!.untilMs > Date.now());
    }
    // None alone would have: each host's own window holds one failure.
    for (const h of [a, b, c]) assert.equal(h.fleet.localCount('auth', attacker, now()), 1);
    assert.equal(a.thresholds.length + b.thresholds.length, 0);
    assert.equal(c.remote.length, 0, 'a host does not re-apply its own block');
    await closeAll();
  });

  it('the connection rule: six new connections in 60 s spread over two hosts block on both', async () => {
    const [a, b] = [host('mx1', server.url), host('mx2', server.url)];
    await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'ok', LONG);
    const x = '2001:db8:77::/64';
    for (let i = 0; i < 5; i++) {
      (i % 2 === 0 ? a : b).fleet.hit('conn', x, `2001:db8:77::${i + 1}`, now());
      await waitFor(() => a.fleet.stats.fleetHits + b.fleet.stats.fleetHits === i + 1, `hit ${i + 1} landed`, LONG);
    }
    assert.equal(a.thresholds.length + b.thresholds.length, 0);
    b.fleet.hit('conn', x, '2001:db8:77::6', now());
    // (The stream also holds the earlier tests' blocks: a host reads back one block duration.)
    const got = (): FleetBlock | undefined => a.remote.find((r) => r.key === x);
    await waitFor(() => b.thresholds.length === 1 && got() !== undefined, 'the sixth blocks on both', LONG);
    assert.equal(b.thresholds[0]!.rule, 'conn');
    assert.equal(b.thresholds[0]!.count, 6);
    assert.equal(got()!.rule, 'conn');
    assert.equal(got()!.client, '2001:db8:77::6');
    await closeAll();
  });

  it('a host that starts (or comes back) later reads the blocks still running from the stream', async () => {
    const a = host('mx1', server.url);
    await waitFor(() => a.fleet.health === 'ok', 'ok', LONG);
    const x = '203.0.113.77';
    for (let i = 0; i < 3; i++) a.fleet.hit('auth', x, x, now());
    await waitFor(() => a.thresholds.length === 1 && a.fleet.stats.published >= 1, 'blocked and published', LONG);
    const late = host('mx9', server.url);
    await waitFor(() => late.remote.some((r) => r.key === x), 'the late host catches up', LONG);
    assert.equal(late.remote.find((r) => r.key === x)!.host, 'mx1');
    await closeAll();
  });

  it('a host never applies a fleet block that its predicate refuses (whitelist, own addresses)', async () => {
    const a = host('mx1', server.url);
    const b = host('mx2', server.url, { mayBlock: (key) => key !== '192.0.2.9' });
    await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'ok', LONG);
    for (let i = 0; i < 3; i++) a.fleet.hit('auth', '192.0.2.9', '192.0.2.9', now());
    for (let i = 0; i < 3; i++) a.fleet.hit('auth', '203.0.113.5', '203.0.113.5', now());
    await waitFor(() => b.remote.some((x) => x.key === '203.0.113.5'), 'the other block arrives', LONG);
    await waitFor(() => b.fleet.stats.remoteSkipped === 1, 'the refused one is counted', LONG);
    assert.ok(!b.remote.some((x) => x.key === '192.0.2.9'));
    assert.ok(b.logs.some((l) => (l.obj as { event?: string }).event === 'fleet_block_skipped'));
    await closeAll();
  });

  it('Redis killed mid-run: hosts count locally and say so; back: the replay blocks what the fleet would have', async () => {
    const [a, b, c] = [host('mx1', server.url), host('mx2', server.url), host('mx3', server.url)];
    await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'all hosts ok', LONG);
    // Before the crash: one failure of the spread attacker lands in Redis (and is lost with it).
    const spread = '198.51.100.44';
    a.fleet.hit('auth', spread, spread, now());
    await waitFor(() => a.fleet.stats.fleetHits === 1, 'landed before the crash', LONG);

    await server.kill();
    await waitFor(() => hosts.every((h) => h.fleet.health === 'degraded'), 'all hosts degraded', LONG);
    for (const h of hosts)
      assert.ok(
        h.logs.some((l) => (l.obj as { event?: string }).event === 'fleet_degraded'),
        `${h.name} logs it`,
      );
    // While Redis is away: two more failures of the spread attacker, on two other hosts…
    b.fleet.hit('auth', spread, spread, now());
    c.fleet.hit('auth', spread, spread, now());
    // …and a local attacker failing three times on mx1: blocked locally at once.
    const localOnly = '203.0.113.99';
    for (let i = 0; i < 3; i++) a.fleet.hit('auth', localOnly, localOnly, now());
    await waitFor(() => a.thresholds.length === 1, 'mx1 blocks the local attacker on its own', LONG);
    assert.equal(a.thresholds[0]!.source, 'local');
    assert.equal(a.thresholds[0]!.key, localOnly);
    assert.equal(b.thresholds.length + c.thresholds.length, 0, 'one failure each: nobody blocks the spread attacker alone');
    assert.ok(b.fleet.stats.localHits >= 1 && c.fleet.stats.localHits >= 1);
    assert.equal(a.fleet.queued, 3);

    await server.start(); // empty: no persistence
    await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'all hosts reconciled', LONG);
    // The spread attacker: mx1 resends its pre-crash failure (the server changed), mx2 and mx3
    // replay theirs; one of the replays makes three, and every host ends up blocking it.
    const blocked = (h: TestHost, key: string): boolean => h.thresholds.some((t) => t.key === key) || h.remote.some((r) => r.key === key);
    await waitFor(() => hosts.every((h) => blocked(h, spread)), 'every host blocks the spread attacker', LONG);
    const rec = hosts.flatMap((h) => h.thresholds).filter((t) => t.key === spread);
    assert.ok(rec.length >= 1 && rec.every((t) => t.source === 'reconciled'), JSON.stringify(rec));
    // The local attacker's block reaches the others too.
    await waitFor(() => [b, c].every((h) => blocked(h, localOnly)), 'the local block is published', LONG);
    for (const h of hosts) assert.equal(h.fleet.queued, 0);
    // mx1 saw another server (run_id) and resent its whole in-window journal, the pre-crash hit too.
    assert.ok(
      a.logs.some((l) => {
        const o = l.obj as { event?: string; full?: boolean };
        return o.event === 'fleet_ok' && o.full === true;
      }),
      JSON.stringify(a.logs),
    );
    await closeAll();
  });

  it('Redis slower than the budget: the hit is decided locally, and the late reply still counts', async () => {
    const proxy = await FreezableProxy.start(server.port);
    // Commands wait as long as the proxy holds them (a command timeout far beyond the test's).
    const a = host('mx1', proxy.url, { budgetMs: 50, redisOptions: { retryStrategy: () => 50, commandTimeout: 600_000 } });
    const admin = new Redis(server.url);
    try {
      await waitFor(() => a.fleet.health === 'ok', 'ok', LONG);
      proxy.freeze(); // Redis is up, its answers are held
      const x = '192.0.2.200';
      a.fleet.hit('auth', x, x, now());
      await waitFor(() => a.fleet.health === 'degraded', 'degraded by the budget', LONG);
      assert.equal(a.fleet.stats.localHits, 1);
      assert.ok(a.logs.some((l) => (l.obj as { reason?: string }).reason === 'slow'));
      a.fleet.hit('auth', x, x, now());
      a.fleet.hit('auth', x, x, now());
      await waitFor(() => a.thresholds.length === 1, 'local threshold', LONG);
      assert.equal(a.thresholds[0]!.source, 'local');
      proxy.thaw();
      await waitFor(() => a.fleet.health === 'ok' && a.fleet.queued === 0, 'back to ok, queue replayed', LONG);
      assert.equal(a.fleet.stats.lateReplies, 1, 'the first hit was answered late');
      assert.equal(await admin.zcard(`smtpstrike:w:auth:${x}`), 3, 'the fleet window holds all three');
      assert.equal(a.thresholds.length, 1, 'blocked once');
    } finally {
      admin.disconnect();
      await closeAll();
      await proxy.close();
    }
  });

  it('rediss:// with a password: TLS to a redis-server that requires both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    const tlsServer = await RedisServer.start({ password: 'fleet pass/1', tls: { certFile, keyFile } });
    try {
      assert.match(tlsServer.url, /^rediss:\/\/:fleet%20pass%2F1@127\.0\.0\.1:\d+\/0$/);
      // The self-signed certificate is trusted here through the options (a deployment would use
      // NODE_EXTRA_CA_CERTS or a CA the system trusts); the URL gives TLS and the password.
      const tls = { ca: readFileSync(certFile), servername: 'localhost' };
      const [a, b] = [host('tls1', tlsServer.url, { redisOptions: { tls } }), host('tls2', tlsServer.url, { redisOptions: { tls } })];
      await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'ok over TLS', LONG);
      const x = '198.51.100.250';
      a.fleet.hit('auth', x, x, now());
      await waitFor(() => a.fleet.stats.fleetHits === 1, 'landed', LONG);
      a.fleet.hit('auth', x, x, now());
      b.fleet.hit('auth', x, x, now());
      await waitFor(() => a.thresholds.length + b.thresholds.length === 1 && a.remote.length + b.remote.length === 1, 'blocked over TLS', LONG);
      assert.ok(!a.logs.concat(b.logs).some((l) => JSON.stringify(l).includes('fleet pass')), 'the password is never logged');
      // Without the password the server refuses, and the host stays local (no crash).
      const c = host('tls3', tlsServer.url.replace(/:[^:@/]*@/, ''), { redisOptions: { tls, retryStrategy: () => 50 } });
      c.fleet.hit('auth', x, x, now());
      await new Promise((r) => setTimeout(r, 300));
      assert.notEqual(c.fleet.health, 'ok');
      assert.equal(c.fleet.stats.localHits, 1);
    } finally {
      await closeAll();
      await tlsServer.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redis+sentinel://: hosts follow a failover; the new master gets the whole in-window journal again', async () => {
    const master = await RedisServer.start();
    const replica = await RedisServer.start({ extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] });
    const sentinel = await RedisServer.start({
      sentinelConf: `sentinel monitor fleetm 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds fleetm 500\nsentinel failover-timeout fleetm 5000\n`,
    });
    try {
      const url = `redis+sentinel://127.0.0.1:${sentinel.port}/fleetm/0`;
      const [a, b] = [host('sen1', url), host('sen2', url)];
      await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'ok through Sentinel', LONG);
      const x = '198.51.100.123';
      a.fleet.hit('auth', x, x, now());
      await waitFor(() => a.fleet.stats.fleetHits === 1, 'landed on the first master', LONG);
      await master.kill();
      await waitFor(() => hosts.every((h) => h.fleet.health === 'degraded'), 'degraded when the master dies', LONG);
      // Sentinel promotes the replica; the hosts ask it for the new master and reconcile there.
      await waitFor(() => hosts.every((h) => h.fleet.health === 'ok'), 'ok on the promoted replica', 60_000);
      b.fleet.hit('auth', x, x, now());
      b.fleet.hit('auth', x, x, now());
      await waitFor(() => b.thresholds.length === 1 && a.remote.some((r) => r.key === x), 'the third failure blocks on both', LONG);
      assert.equal(b.thresholds[0]!.count, 3);
      // Another server (run_id): mx1 resent its in-window journal, whatever the replica had copied.
      assert.ok(
        a.logs.some((l) => {
          const o = l.obj as { event?: string; full?: boolean };
          return o.event === 'fleet_ok' && o.full === true;
        }),
      );
    } finally {
      await closeAll();
      await sentinel.stop();
      await replica.stop();
      await master.stop();
    }
  });
});
