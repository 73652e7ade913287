/**
 * WatchService driven with pipeline events and a recording command runner (no capture, no
 * firewall, no processes): what reaches `ss` and the block queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import type { CommandRunner, RunResult } from '../src/blocker/runner.js';
import type { PipelineEvent } from '../src/events.js';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { CONFIG_KEYS } from '../src/config/config-file.js';
import { CaptureFileReader } from '../src/source/capture-file.js';
import { ProtectedAddresses } from '../src/watch/own-addresses.js';
import { LIVE_KEYS, reloadChanges, RESTART_KEYS } from '../src/watch/reload.js';
import { WatchService, type WatchSettings } from '../src/watch/watch-service.js';
import { FrameList, loginSession, tempDir } from './support/synth.js';
import { watchTestSettings } from './support/watch-settings.js';
import { synSnapshot } from './support/wire-snapshot.js';

/** Records every command; `ip -j addr` answers with `addresses`, everything else succeeds. */
class RecordingRunner implements CommandRunner {
  readonly netns = 'test-ns';
  calls: { cmd: string; args: readonly string[]; input: string }[] = [];
  addresses: string[] = [];
  async run(cmd: string, args: readonly string[], input = ''): Promise<RunResult> {
    this.calls.push({ cmd, args, input });
    if (cmd === 'ip') return { code: 0, stdout: JSON.stringify([{ ifname: 'eth0', addr_info: this.addresses.map((local) => ({ local })) }]), stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  }
  of(cmd: string): (readonly string[])[] {
    return this.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
  }
}

function memLog(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'trace' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

/** Not a dry run, and established connections killed: what these tests check. */
function settings(dir: string): WatchSettings {
  return watchTestSettings(dir, 'state.json', { dryRun: false, killEstablished: true });
}

const wire = synSnapshot(587);
const blockEv = (key: string): PipelineEvent => ({ type: 'block', ts: 1000, client: key.split('/')[0]!, key, rule: 'auth', from: 1000, until: 2200, level: 0 });
const rejectEv = (key: string, i: number): PipelineEvent => ({
  type: 'reject',
  ts: 1001 + i,
  client: key.split('/')[0]!,
  key,
  rule: 'auth',
  prefix: 'SMTP_AUTH_REJECT: ',
  wire,
  block: { level: 0, until: 2200 },
});

test('protected addresses: a key is refused when it overlaps loopback or an own address, either way round', () => {
  const p = new ProtectedAddresses(['192.0.2.25', '2001:db8:1::25', 'fe80::1%eth0', '::1', '127.0.0.1']);
  assert.equal(p.hit('::/64'), '::1', '::1 counted per /64 is ::/64, which holds ::1');
  assert.equal(p.hit('::1'), '::1');
  assert.equal(p.hit('127.0.0.2'), '127.0.0.0/8', 'all of 127/8 is loopback');
  assert.equal(p.hit('192.0.2.25'), '192.0.2.25');
  assert.equal(p.hit('2001:db8:1::/64'), '2001:db8:1::25', 'a neighbour in our own /64');
  assert.equal(p.hit('fe80::/64'), 'fe80::1', 'link-local, zone stripped');
  assert.equal(p.hit('2001:db8:2::/64'), null);
  assert.equal(p.hit('192.0.2.26'), null);
  assert.equal(new ProtectedAddresses([]).hit('::/64'), '::1', 'loopback is protected before any interface is read');
});

test('--kill-established: a block runs ss -K once for its key; 1,000 refused SYNs after it run none', async () => {
  const t = tempDir();
  const runner = new RecordingRunner();
  const { logger } = memLog();
  const w = new WatchService(settings(t.dir), logger, { runner });
  try {
    w.event(blockEv('198.51.100.8'));
    for (let i = 0; i < 1000; i++) w.event(rejectEv('198.51.100.8', i));
    w.event(blockEv('2001:db8:9::/64'));
    await w.stop();
    assert.deepEqual(
      runner.of('ss'),
      [
        ['-K', 'dst', '198.51.100.8', '(', 'sport', '=', ':25', 'or', 'sport', '=', ':587', ')'],
        ['-K', 'dst', '2001:db8:9::/64', '(', 'sport', '=', ':25', 'or', 'sport', '=', ':587', ')'],
      ],
      'once per block, for the whole key',
    );
  } finally {
    t.cleanup();
  }
});

test('own addresses are re-read: a block that now holds one is lifted, and it is not blocked again', async () => {
  const t = tempDir();
  const runner = new RecordingRunner();
  const { logger, lines } = memLog();
  const w = new WatchService({ ...settings(t.dir), killEstablished: false }, logger, { runner });
  try {
    await w.refreshOwnAddresses();
    // A real block through the strike engine: three failures from 203.0.113.5.
    for (let i = 0; i < 3; i++) {
      w.pipeline.strikes.event({
        type: 'auth_failure',
        ts: Date.now() / 1000,
        flow: i,
        client: '203.0.113.5',
        clientPort: 1,
        server: '192.0.2.25',
        serverPort: 587,
        code: 535,
        mech: null,
        user: null,
        text: '535',
        matched: false,
        inferred: null,
        wire,
      });
    }
    assert.ok(lines.some((l) => l.event === 'block' && l.key === '203.0.113.5'));
    runner.addresses = ['203.0.113.5']; // the admin moved the host to that address (SIGHUP or the periodic read)
    await w.refreshOwnAddresses();
    assert.ok(lines.some((l) => l.event === 'own_addresses' && (l.added as string[]).includes('203.0.113.5')));
    assert.ok(lines.some((l) => l.event === 'unblock_own_address' && l.key === '203.0.113.5'));
    w.event(rejectEv('203.0.113.5', 0));
    await w.stop();
    assert.ok(
      lines.some((l) => l.event === 'block_skipped' && l.key === '203.0.113.5'),
      'the refused SYN does not re-block it',
    );
    const nft = runner.calls
      .filter((c) => c.cmd === 'nft')
      .map((c) => c.input)
      .join('\n');
    const touching = nft.split('\n').filter((l) => l.includes('203.0.113.5'));
    assert.match(touching.at(-1) ?? '', /^delete element inet smtpstrike blocked4/, `the kernel's last word on it is a delete:\n${nft}`);
  } finally {
    t.cleanup();
  }
});

test('SIGHUP: every config key is either applied live or named as needing a restart, never ignored', () => {
  for (const key of Object.keys(CONFIG_KEYS)) {
    assert.equal(Number(LIVE_KEYS.includes(key)) + Number(RESTART_KEYS.includes(key)), 1, `${key}: in exactly one list`);
  }
  assert.equal(LIVE_KEYS.length + RESTART_KEYS.length, Object.keys(CONFIG_KEYS).length);
  const running = { statsInterval: 60, maxFlows: 100, match: [], interface: 'eth0' };
  assert.deepEqual(reloadChanges(running, { ...running, statsInterval: 5, maxFlows: 200, match: ['x'], interface: 'eth1' }), {
    applied: ['match', 'stats_interval'],
    needsRestart: ['max_flows', 'interface'],
  });
});

async function feed(w: WatchService, pcap: string): Promise<void> {
  const r = await CaptureFileReader.open(pcap);
  try {
    do while (r.next()) w.pipeline.packet(r.rec);
    while (await r.refill());
  } finally {
    await r.close();
  }
}

test('SIGHUP applies --match and max_strike_entries to the running pipeline (new sessions use the new patterns)', async () => {
  const t = tempDir();
  const { logger, lines } = memLog();
  const s = settings(t.dir);
  const w = new WatchService({ ...s, dryRun: true, killEstablished: false }, logger, { runner: new RecordingRunner() });
  try {
    const pcapOf = async (name: string, port: number, t0: number): Promise<string> => {
      const f = new FrameList();
      loginSession(f.conversation('en10mb', '198.51.100.20', port, '192.0.2.25', 587), t0, 'alice', '454 4.7.0 custom-deny\r\n');
      return f.write(join(t.dir, name));
    };
    await feed(w, await pcapOf('before.pcap', 40001, 1_000_000));
    assert.deepEqual(
      lines.filter((l) => String(l.event).startsWith('auth_')).map((l) => l.event),
      ['auth_tempfail'],
      'no pattern yet: a 454 is a temporary failure',
    );
    const next = { ...s, pipeline: defaultPipelineOptions() };
    next.pipeline.patterns = ['custom-deny'];
    next.pipeline.strikes.maxEntries = 100;
    w.reload(next, logger, { applied: ['match', 'max_strike_entries'], needsRestart: [] });
    assert.equal(w.pipeline.strikes.opts.maxEntries, 100);
    await feed(w, await pcapOf('after.pcap', 40002, 100_000_000));
    assert.deepEqual(
      lines.filter((l) => String(l.event).startsWith('auth_')).map((l) => l.event),
      ['auth_tempfail', 'auth_failure'],
      'the reloaded pattern counts it',
    );
    assert.ok(lines.some((l) => l.event === 'strike' && l.client === '198.51.100.20'));
    await w.stop();
  } finally {
    t.cleanup();
  }
});

test('after a SIGHUP that replaces the logger, the blocker and its queue log to the new one (the old file is closed)', async () => {
  const t = tempDir();
  const a = memLog();
  const b = memLog();
  const s = { ...settings(t.dir), dryRun: true, killEstablished: false };
  const w = new WatchService(s, a.logger, { runner: new RecordingRunner() });
  try {
    w.reload(s, b.logger, { applied: ['log_file'], needsRestart: [] });
    w.event(blockEv('198.51.100.30'));
    await w.stop();
    assert.ok(
      b.lines.some((l) => l.backend === 'dry-run' && l.addr === '198.51.100.30'),
      'the block is logged by the new logger',
    );
    assert.ok(!a.lines.some((l) => l.backend === 'dry-run' && l.addr === '198.51.100.30'), 'not by the replaced one');
  } finally {
    t.cleanup();
  }
});

test('repeat offenders: a block at level N gets --block-seconds x factor^N in the kernel; a refusal never shortens an escalated block', async () => {
  const t = tempDir();
  const runner = new RecordingRunner();
  const { logger, lines } = memLog();
  const w = new WatchService({ ...settings(t.dir), dryRun: true, killEstablished: false }, logger, { runner });
  try {
    w.event({ type: 'block', ts: 1000, client: '198.51.100.1', key: '198.51.100.1', rule: 'auth', from: 1000, until: 1240, level: 2 });
    w.event({
      ...(rejectEv('198.51.100.2', 0) as object),
      client: '198.51.100.2',
      key: '198.51.100.2',
      ts: 1000,
      block: { level: 3, until: 1500 },
    } as PipelineEvent);
    w.event({
      ...(rejectEv('198.51.100.3', 0) as object),
      client: '198.51.100.3',
      key: '198.51.100.3',
      ts: 1000,
      block: { level: 3, until: 1010 },
    } as PipelineEvent);
    w.event({
      ...(rejectEv('198.51.100.4', 0) as object),
      client: '198.51.100.4',
      key: '198.51.100.4',
      ts: 1000,
      block: { level: 0, until: 5000 },
    } as PipelineEvent);
    await w.stop();
    const block = lines.find((l) => l.event === 'block');
    assert.equal(block?.level, 2);
    assert.equal(block?.timeout_s, 240, '60 s x 2^2');
    const timeouts = new Map(lines.filter((l) => l.backend === 'dry-run' && l.op === 'add').map((l) => [l.addr, l.timeout_s]));
    assert.deepEqual(Object.fromEntries(timeouts), {
      '198.51.100.1': 240,
      '198.51.100.2': 500, // the time it has left, longer than --block-seconds
      '198.51.100.3': 60, // --block-seconds, longer than the 10 s left
      '198.51.100.4': 60, // level 0: as before, --block-seconds
    });
  } finally {
    t.cleanup();
  }
});
