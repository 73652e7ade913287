/**
 * watch's links (src/watch/block-links.ts) with the real things: three WatchServices in process
 * (dry-run blocker, events fed into the strike engine as the pipeline feeds them) counting on a real
 * redis-server; a watch linked to the real CrowdSec LAPI (Debian's crowdsec, started here); an
 * --on-block program run when watch blocks. No timing assertions: every wait is for an outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { AuthEvent } from '../src/events.js';
import { parseConfigFile, ConfigError } from '../src/config/config-file.js';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { AddressSet } from '../src/strikes/address-key.js';
import { WatchService, type WatchSettings } from '../src/watch/watch-service.js';
import type { LinkSettings } from '../src/watch/block-links.js';
import { CROWDSEC_BIN, CSCLI_BIN, freePort as lapiPort, TestLapi } from './support/crowdsec-lapi.js';
import { haveRedisServer, RedisServer } from './support/redis-server.js';
import { tempDir } from './support/synth.js';
import { waitFor } from './support/wait.js';
import { Registry } from 'prom-client';
import { linkMetrics } from '../src/watch/link-metrics.js';
import { synSnapshot } from './support/wire-snapshot.js';

const LONG = 30_000;

function memLog(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

function settings(dir: string, name: string, links: LinkSettings, whitelist: string[] = []): WatchSettings {
  const pipeline = defaultPipelineOptions();
  const wl = new AddressSet();
  for (const w of whitelist) wl.add(w);
  pipeline.strikes = { ...pipeline.strikes, whitelist: wl };
  return {
    pipeline,
    iface: 'lo',
    captureBackend: 'tcpdump',
    bufferSize: 0,
    blocker: 'nft',
    dryRun: true,
    blockSeconds: 1200,
    killEstablished: false,
    stateFile: join(dir, `${name}.state.json`),
    statsInterval: 60,
    links,
  };
}

const wire = synSnapshot(587);

let flow = 0;
/** One 535 from `client`, as the SMTP layer hands it to the strike engine, at wall-clock time. */
function failure(client: string): AuthEvent {
  return {
    type: 'auth_failure',
    ts: Date.now() / 1000,
    flow: flow++,
    client,
    clientPort: 40000 + flow,
    server: '192.0.2.25',
    serverPort: 587,
    code: 535,
    mech: 'PLAIN',
    user: 'info',
    text: '535 5.7.8 Error: authentication failed',
    matched: false,
    inferred: null,
    wire,
  };
}

/** What the dry-run blocker would have done: [op, addr, timeout]. */
const dryRun = (lines: Record<string, unknown>[]): [unknown, unknown, unknown][] =>
  lines.filter((l) => l.backend === 'dry-run' && (l.op === 'add' || l.op === 'del')).map((l) => [l.op, l.addr, l.timeout_s]);

test('--fleet: three watches on one redis-server, one failure each: all three block at the third, none alone', async (t) => {
  if (!haveRedisServer()) {
    process.stderr.write('SKIPPED LOUDLY: watch-links fleet needs redis-server (scripts/install-deps.sh fleet)\n');
    t.skip('no redis-server');
    return;
  }
  const tmp = tempDir();
  const redis = await RedisServer.start();
  const hosts = ['mx1', 'mx2', 'mx3'].map((name) => {
    const { logger, lines } = memLog();
    // A generous budget: on a loaded machine a hit is still decided by Redis, not locally.
    const w = new WatchService(settings(tmp.dir, name, { fleet: redis.url, fleetHost: name, fleetBudgetMs: 5000 }), logger);
    return { name, w, lines };
  });
  const attacker = '203.0.113.77';
  try {
    for (const h of hosts) h.w.links!.start();
    await waitFor(() => hosts.every((h) => h.w.links!.fleet!.health === 'ok'), 'every host reached Redis', LONG);
    for (const [i, h] of hosts.entries()) {
      h.w.pipeline.strikes.event(failure(attacker));
      const f = h.w.links!.fleet!;
      await waitFor(() => f.stats.fleetHits === 1, `${h.name}: its hit decided by Redis`, LONG);
      assert.equal(f.localCount('auth', attacker, Date.now() / 1000), 1, `${h.name} saw one failure`);
      assert.equal(h.w.pipeline.strikes.stats.blocks, 0, `${h.name} alone would not block (1 of 3)`);
      if (i < 2) assert.deepEqual(dryRun(h.lines), [], `${h.name}: nothing blocked before the third failure`);
    }
    for (const h of hosts) await waitFor(() => dryRun(h.lines).some(([op, a]) => op === 'add' && a === attacker), `${h.name} blocks ${attacker}`, LONG);
    for (const h of hosts) {
      const [[, , timeout]] = dryRun(h.lines).filter(([, a]) => a === attacker) as [[string, string, number]];
      assert.ok(timeout > 1100 && timeout <= 1200, `${h.name}: the fleet block's time left, ${timeout} s`);
    }
    // mx3 crossed the threshold and published; mx1 and mx2 applied it from the stream.
    assert.ok(hosts[2]!.lines.some((l) => l.event === 'block' && l.source === 'fleet_fleet' && l.key === attacker));
    for (const h of hosts.slice(0, 2)) assert.ok(h.lines.some((l) => l.event === 'fleet_block' && l.from_host === 'mx3' && l.key === attacker));
    // The stats line carries the fleet's health and counters.
    await hosts[0]!.w.logStats('periodic');
    const st = hosts[0]!.lines.filter((l) => l.event === 'stats').at(-1) as { fleet?: { health: string; hits: number; applied: number } };
    assert.equal(st.fleet?.health, 'ok');
    assert.equal(st.fleet?.hits, 1);
    assert.equal(st.fleet?.applied, 1);
    // And the /metrics page (watch --metrics): the fleet's health and counters, no address.
    const registry = new Registry();
    linkMetrics(hosts[2]!.w.links!).register(registry);
    const page = await registry.metrics();
    assert.match(page, /^smtpstrike_fleet_health\{state="ok"\} 1$/m);
    assert.match(page, /^smtpstrike_fleet_health\{state="degraded"\} 0$/m);
    assert.match(page, /^smtpstrike_fleet_hits_total 1$/m);
    assert.match(page, /^smtpstrike_fleet_published_total 1$/m);
    assert.ok(!page.includes(attacker), 'no address on the metrics page');
  } finally {
    for (const h of hosts) await h.w.stop();
    await redis.stop();
    tmp.cleanup();
  }
});

test('--fleet: new connections count fleet-wide too: two per host on three hosts reach the connection rule (6) everywhere', async (t) => {
  if (!haveRedisServer()) {
    process.stderr.write('SKIPPED LOUDLY: watch-links fleet needs redis-server (scripts/install-deps.sh fleet)\n');
    t.skip('no redis-server');
    return;
  }
  const tmp = tempDir();
  const redis = await RedisServer.start();
  const hosts = ['c1', 'c2', 'c3'].map((name) => {
    const { logger, lines } = memLog();
    const w = new WatchService(settings(tmp.dir, name, { fleet: redis.url, fleetHost: name, fleetBudgetMs: 5000 }), logger);
    return { name, w, lines };
  });
  const flooder = '203.0.113.66';
  try {
    for (const h of hosts) h.w.links!.start();
    await waitFor(() => hosts.every((h) => h.w.links!.fleet!.health === 'ok'), 'every host reached Redis', LONG);
    for (const h of hosts) {
      for (let i = 0; i < 2; i++) {
        const ts = Date.now() / 1000;
        h.w.pipeline.strikes.event({
          type: 'connect',
          ts,
          flow: flow++,
          client: flooder,
          clientPort: 50000 + flow,
          server: '192.0.2.25',
          serverPort: 25,
          wire,
        });
      }
      assert.equal(h.w.pipeline.strikes.stats.blocks, 0, `${h.name} alone: 2 of 6 connections`);
      await waitFor(() => h.w.links!.fleet!.stats.fleetHits === 2, `${h.name}: both connections counted in Redis`, LONG);
    }
    for (const h of hosts) await waitFor(() => dryRun(h.lines).some(([op, a]) => op === 'add' && a === flooder), `${h.name} blocks ${flooder}`, LONG);
    assert.ok(hosts[2]!.lines.some((l) => l.event === 'block' && l.rule === 'conn' && l.source === 'fleet_fleet'));
  } finally {
    for (const h of hosts) await h.w.stop();
    await redis.stop();
    tmp.cleanup();
  }
});

test('--fleet: a remote block is not applied on a whitelisted address or an own one', async (t) => {
  if (!haveRedisServer()) {
    process.stderr.write('SKIPPED LOUDLY: watch-links fleet needs redis-server (scripts/install-deps.sh fleet)\n');
    t.skip('no redis-server');
    return;
  }
  const tmp = tempDir();
  const redis = await RedisServer.start();
  const a = memLog();
  const b = memLog();
  const links = (host: string): LinkSettings => ({ fleet: redis.url, fleetHost: host, fleetBudgetMs: 5000 });
  const wa = new WatchService(settings(tmp.dir, 'a', links('a')), a.logger);
  const wb = new WatchService(settings(tmp.dir, 'b', links('b'), ['198.51.100.0/24']), b.logger);
  try {
    wa.links!.start();
    wb.links!.start();
    await waitFor(() => wa.links!.fleet!.health === 'ok' && wb.links!.fleet!.health === 'ok', 'both reached Redis', LONG);
    // a blocks two addresses on its own (three failures each): the whitelisted one, then another.
    for (const c of ['198.51.100.9', '127.0.0.2', '203.0.113.80']) for (let i = 0; i < 3; i++) wa.pipeline.strikes.event(failure(c));
    await waitFor(() => dryRun(b.lines).some(([, x]) => x === '203.0.113.80'), 'b applies the ordinary block', LONG);
    assert.deepEqual(
      dryRun(b.lines).map(([, x]) => x),
      ['203.0.113.80'],
      'the whitelisted and the loopback address were not blocked on b',
    );
    assert.ok(wb.links!.fleet!.stats.remoteSkipped >= 1);
  } finally {
    await wa.stop();
    await wb.stop();
    await redis.stop();
    tmp.cleanup();
  }
});

test('crowdsec: a block made by watch is listed by cscli; a cscli ban reaches the blocker, a deletion lifts it; protected ones never', async (t) => {
  if (!CROWDSEC_BIN || !CSCLI_BIN) {
    process.stderr.write('SKIPPED LOUDLY: watch-links crowdsec needs the Debian crowdsec package (scripts/install-deps.sh crowdsec)\n');
    t.skip('no crowdsec');
    return;
  }
  const tmp = tempDir();
  const lapi = new TestLapi(tmp.dir, await lapiPort());
  lapi.addMachine('mx1', 'mx1-password-123');
  lapi.addBouncer('mx1-bouncer', 'mx1bouncerkey0123456789');
  await lapi.start();
  const { logger, lines } = memLog();
  const w = new WatchService(
    settings(
      tmp.dir,
      'cs',
      { crowdsec: { url: lapi.url, machineId: 'mx1', password: 'mx1-password-123', bouncerKey: 'mx1bouncerkey0123456789', pollInterval: 1, maxQueue: 100 } },
      ['192.0.2.0/24'],
    ),
    logger,
  );
  const link = w.links!.crowdsec!;
  try {
    w.links!.start();
    for (let i = 0; i < 3; i++) w.pipeline.strikes.event(failure('203.0.113.90'));
    await waitFor(() => link.pusher!.stats.pushed === 1, 'the block pushed as one alert', LONG);
    const listed = JSON.parse(lapi.cscli(['decisions', 'list', '-o', 'json'])) as { scenario: string; source: { value: string } }[];
    const ours = listed.filter((x) => x.source.value === '203.0.113.90');
    assert.equal(ours.length, 1, `listed once: ${JSON.stringify(listed)}`);
    assert.equal(ours[0]!.scenario, 'smtpstrike/smtp-auth-bf');

    await waitFor(() => (link.bouncer?.stats.polls ?? 0) >= 1, 'the startup poll', LONG);
    lapi.cscli(['decisions', 'add', '--ip', '192.0.2.9', '--duration', '2h', '--reason', 'whitelisted here']);
    lapi.cscli(['decisions', 'add', '--ip', '127.0.0.1', '--duration', '2h', '--reason', 'loopback']);
    lapi.cscli(['decisions', 'add', '--ip', '198.51.100.7', '--duration', '2h', '--reason', 'manual test']);
    await waitFor(() => dryRun(lines).some(([op, a]) => op === 'add' && a === '198.51.100.7'), 'the cscli ban in the blocker', LONG);
    const ban = dryRun(lines).find(([, a]) => a === '198.51.100.7')!;
    assert.ok((ban[2] as number) > 7000 && (ban[2] as number) <= 7200, `its time left: ${String(ban[2])}`);
    assert.deepEqual(
      dryRun(lines).map(([op, a]) => `${String(op)} ${String(a)}`),
      ['add 203.0.113.90', 'add 198.51.100.7'],
      'our own block once; the whitelisted and loopback bans not applied; our push not echoed back',
    );
    assert.equal(link.pusher!.stats.pushed, 1, 'a ban from the bouncer is never pushed back as our alert');

    lapi.cscli(['decisions', 'delete', '--ip', '198.51.100.7']);
    await waitFor(() => dryRun(lines).some(([op, a]) => op === 'del' && a === '198.51.100.7'), 'the deletion lifts it', LONG);
    lapi.cscli(['decisions', 'delete', '--ip', '203.0.113.90']);
    const polls = link.bouncer!.stats.polls;
    await waitFor(() => link.bouncer!.stats.polls >= polls + 2, 'two more polls (the deletion seen)', LONG);
    await w.logStats('periodic');
    const st = lines.filter((l) => l.event === 'stats').at(-1) as { crowdsec?: { applied: number; lifted: number } };
    assert.equal(st.crowdsec?.applied, 1);
    assert.equal(st.crowdsec?.lifted, 1);
  } finally {
    await w.stop();
    await lapi.stop();
    tmp.cleanup();
  }
  assert.ok(!dryRun(lines).some(([op, a]) => op === 'del' && a === '203.0.113.90'), 'deleting our own decision in CrowdSec does not lift our block');
});

test('--on-block: the program runs with the block as arguments when watch blocks', async () => {
  const tmp = tempDir();
  const out = join(tmp.dir, 'hook.out');
  const prog = join(tmp.dir, 'hook');
  writeFileSync(prog, `#!/bin/sh\nprintf '%s\\n' "$@" "$SMTPSTRIKE_KEY" >> "${out}"\n`);
  chmodSync(prog, 0o755);
  const { logger } = memLog();
  const w = new WatchService(settings(tmp.dir, 'hooks', { onBlock: [prog, '--from-watch'] }), logger);
  try {
    for (let i = 0; i < 3; i++) w.pipeline.strikes.event(failure('203.0.113.99'));
    const block = w.pipeline.strikes.blocks[0]!;
    await w.stop(); // waits for the program (bounded)
    assert.ok(existsSync(out), 'the program ran');
    assert.equal(
      readFileSync(out, 'utf8'),
      ['--from-watch', 'block', '203.0.113.99', '203.0.113.99', 'auth', String(Math.round(block.until)), '203.0.113.99', ''].join('\n'),
    );
    assert.equal(w.links!.hooks!.stats.succeeded, 1, 'once for the block');
  } finally {
    tmp.cleanup();
  }
});

test('config: on_block as a path or a list, crowdsec as a checked mapping, with the line of a mistake', () => {
  const { options } = parseConfigFile(
    'on_block: /usr/local/bin/notify\non_unblock: [/usr/local/bin/notify, --lifted]\nfleet: redis://:pw@10.0.0.5:6379/2\nfleet_host: mx1\ncrowdsec:\n  url: http://127.0.0.1:8080\n  machine_id: mx1\n  password: secret\n',
  );
  assert.deepEqual(options.get('onBlock'), ['/usr/local/bin/notify']);
  assert.deepEqual(options.get('onUnblock'), ['/usr/local/bin/notify', '--lifted']);
  assert.equal(options.get('fleet'), 'redis://:pw@10.0.0.5:6379/2');
  assert.deepEqual(options.get('crowdsec'), { url: 'http://127.0.0.1:8080', machineId: 'mx1', password: 'secret', pollInterval: 10, maxQueue: 10000 });
  assert.throws(
    () => parseConfigFile('hitcount: 3\ncrowdsec:\n  url: http://127.0.0.1:8080\n  machine_id: mx1\n'),
    (e: unknown) => e instanceof ConfigError && e.line === 3 && /machine_id and password go together/.test(e.message),
  );
  assert.throws(
    () => parseConfigFile('crowdsec:\n  url: http://x\n  bouncer_key: k\n  pol_interval: 5\n'),
    (e: unknown) => e instanceof ConfigError && /crowdsec\.pol_interval: unknown key/.test(e.message),
  );
  assert.throws(
    () => parseConfigFile('hitcount: 3\nfleet: http://10.0.0.5/\n'),
    (e: unknown) => e instanceof ConfigError && e.line === 2 && /fleet: fleet URL not understood/.test(e.message),
  );
  assert.throws(
    () => parseConfigFile('on_block: []\n'),
    (e: unknown) => e instanceof ConfigError && /on_block: expected a program path/.test(e.message),
  );
});
