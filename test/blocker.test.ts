/**
 * Blockers without root: address validation, the exact scripts each backend generates, the
 * command sequences they run (through a fake runner), and the BlockBatcher's batching,
 * backpressure and retry. The kernel side is in blocker-e2e.test.ts (root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { parseBlockAddr, parseTimeout, normalizeOps, covers } from '../src/blocker/address.js';
import { BlockBatcher } from '../src/blocker/batcher.js';
import { BlockAddressError, BlockerError, MAX_TIMEOUT_SEC, type Blocker, type BlockEntry, type BlockLogger, type BlockOp } from '../src/blocker/types.js';
import { DryRunBlocker } from '../src/blocker/dry-run.js';
import { createBlocker } from '../src/blocker/index.js';
import { IpsetBlocker } from '../src/blocker/ipset.js';
import { IptablesBlocker, parseChain } from '../src/blocker/iptables.js';
import { NftBlocker, parseNftSet } from '../src/blocker/nft.js';
import { missingBinary, SpawnRunner, type CommandRunner, type RunResult } from '../src/blocker/runner.js';
import { waitFor } from './support/wait.js';

// ------------------------------------------------------------------------------------------
// helpers

interface Call {
  cmd: string;
  args: string[];
  input: string | undefined;
}

/** Records every command; answers from `reply` (default: success, empty output). */
class FakeRunner implements CommandRunner {
  readonly netns = undefined;
  calls: Call[] = [];
  constructor(private reply: (c: Call) => Partial<RunResult> = () => ({})) {}
  async run(cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
    const c = { cmd, args: [...args], input };
    this.calls.push(c);
    return { code: 0, stdout: '', stderr: '', ...this.reply(c) };
  }
}

interface LogLine {
  level: string;
  obj: object;
  msg: string;
}
function memLogger(): BlockLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

/** An in-memory blocker that records each apply(); optionally slow or failing. */
class RecordingBlocker implements Blocker {
  readonly name = 'dry-run' as const;
  applies: BlockOp[][] = [];
  state = new Map<string, number | null>();
  inFlight = 0;
  maxInFlight = 0;
  maintained = 0;
  /** While set, every apply() waits for it: a test holds an apply in flight as long as it needs. */
  private gate: Promise<void> | null = null;
  /** `failures`: how many applies fail first; `poison`: an address whose batches always fail; `error`: what they throw. */
  constructor(
    private delayMs = 0,
    private failures = 0,
    private poison = '',
    private error: () => Error = () => new Error('kernel said no'),
  ) {}
  async init(): Promise<void> {}
  async exists(): Promise<boolean> {
    return true;
  }
  async apply(ops: BlockOp[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failures > 0) {
        this.failures--;
        throw this.error();
      }
      if (this.poison && ops.some((o) => o.addr === this.poison)) throw this.error();
      this.applies.push(ops);
      for (const o of ops)
        if (o.op === 'add') this.state.set(o.addr, o.timeoutSec ?? null);
        else this.state.delete(o.addr);
    } finally {
      this.inFlight--;
    }
  }
  async list(): Promise<BlockEntry[]> {
    return [...this.state].map(([addr, t]) => ({ addr, expiresInSec: t }));
  }
  async flush(): Promise<void> {
    this.state.clear();
  }
  async cleanup(): Promise<void> {
    this.state.clear();
  }
  async maintain(): Promise<void> {
    this.maintained++;
  }
  /** Holds every apply() until the returned function is called. */
  hold(): () => void {
    let release = (): void => undefined;
    this.gate = new Promise<void>((r) => {
      release = r;
    });
    return () => {
      this.gate = null;
      release();
    };
  }
}

/** Lets other callbacks run (the pump of a batcher), without waiting for any clock. */
const yieldToOthers = (): Promise<void> => new Promise((r) => setImmediate(r));

// ------------------------------------------------------------------------------------------
// address validation

test('addresses: canonical IPv4 / IPv6 / IPv6 prefixes, re-formatted from parsed bytes', () => {
  const cases: [string, string, 4 | 6, number][] = [
    ['10.200.0.2', '10.200.0.2', 4, 32],
    ['10.200.0.2/32', '10.200.0.2', 4, 32],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', 6, 128],
    ['2001:db8::1/128', '2001:db8::1', 6, 128],
    ['2001:db8:1:2:3:4:5:6/64', '2001:db8:1:2::/64', 6, 64], // host bits masked
    ['2001:0db8:0000:0000::/64', '2001:db8::/64', 6, 64],
    ['2001:db8::/48', '2001:db8::/48', 6, 48],
    ['::ffff:192.0.2.7', '192.0.2.7', 4, 32], // IPv4-mapped: an IPv4 client
    ['::1', '::1', 6, 128],
    ['fe80::1:0:0:1', 'fe80::1:0:0:1', 6, 128],
  ];
  for (const [input, addr, family, prefix] of cases) {
    const a = parseBlockAddr(input);
    assert.deepEqual([a.addr, a.family, a.prefix], [addr, family, prefix], input);
  }
});

test('addresses: injection attempts, IPv4 prefixes and garbage are rejected before any command', () => {
  const bad: unknown[] = [
    '1.2.3.4; flush ruleset',
    '1.2.3.4 }; flush ruleset; add element inet smtpstrike blocked4 { 5.6.7.8',
    '1.2.3.4\nflush ruleset',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.4,5.6.7.8',
    '$(reboot)',
    '`id`',
    '1.2.3.4 timeout 1s',
    '1.2.3.4/24',
    '1.2.3.4/0',
    '1.2.3.4/33',
    '10.0.0.0/8',
    '01.2.3.4',
    '1.2.3',
    '256.1.1.1',
    '1.2.3.4.5',
    '2001:db8::/0',
    '2001:db8::/129',
    '2001:db8::/64/64',
    'fe80::1%eth0',
    '::ffff:1.2.3.4/96',
    '1::2::3',
    'localhost',
    'example.com',
    '',
    '::/',
    'garbage',
    '-1.2.3.4',
    '--flush',
    42,
    null,
    undefined,
    { addr: '1.2.3.4' },
    'a'.repeat(1000),
  ];
  for (const b of bad) assert.throws(() => parseBlockAddr(b), BlockAddressError, String(b));
  assert.equal(parseBlockAddr('10.0.0.0/8', { ipv4Prefix: true }).addr, '10.0.0.0/8');
  assert.equal(parseBlockAddr('10.1.2.3/8', { ipv4Prefix: true }).addr, '10.0.0.0/8');
});

test('addresses: timeouts are whole seconds 0..MAX (0 and absent: no timeout)', () => {
  assert.equal(parseTimeout(undefined), null);
  assert.equal(parseTimeout(0), null);
  assert.equal(parseTimeout(1), 1);
  assert.equal(parseTimeout(MAX_TIMEOUT_SEC), MAX_TIMEOUT_SEC);
  for (const t of [-1, 1.5, MAX_TIMEOUT_SEC + 1, Number.NaN, Infinity, '10', '10s; flush ruleset']) {
    assert.throws(() => parseTimeout(t), BlockAddressError, String(t));
  }
});

test('addresses: ops are validated as a whole and coalesced (last op per address wins)', () => {
  const ops = normalizeOps([
    { op: 'add', addr: '10.0.0.1', timeoutSec: 60 },
    { op: 'add', addr: '10.0.0.2', timeoutSec: 60 },
    { op: 'del', addr: '10.0.0.1' },
    { op: 'add', addr: '2001:db8::5/64', timeoutSec: 5 },
    { op: 'add', addr: '2001:db8::/64', timeoutSec: 9 },
  ]);
  assert.deepEqual(
    ops.map((o) => [o.op, o.a.addr, o.timeoutSec]),
    [
      ['add', '10.0.0.2', 60],
      ['del', '10.0.0.1', null],
      ['add', '2001:db8::/64', 9],
    ],
  );
  assert.throws(
    () =>
      normalizeOps([
        { op: 'add', addr: '10.0.0.1' },
        { op: 'add', addr: '1.2.3.4; flush ruleset' },
      ]),
    BlockAddressError,
  );
  assert.throws(() => normalizeOps([{ op: 'flush' as 'add', addr: '10.0.0.1' }]), BlockAddressError);
  assert.ok(covers(parseBlockAddr('2001:db8::/48'), parseBlockAddr('2001:db8:0:5::1')));
  assert.ok(!covers(parseBlockAddr('2001:db8::/64'), parseBlockAddr('2001:db8:0:5::1')));
  assert.ok(!covers(parseBlockAddr('2001:db8::1'), parseBlockAddr('2001:db8::/64')));
});

// ------------------------------------------------------------------------------------------
// nft

test('nft: table, sets, chain and rules, exactly', () => {
  const b = new NftBlocker({ ports: [587, 25, 587], runner: new FakeRunner() });
  assert.equal(
    b.structureScript(),
    [
      'add table inet smtpstrike',
      'add set inet smtpstrike blocked4 { type ipv4_addr; flags timeout; }',
      'add set inet smtpstrike blocked6 { type ipv6_addr; flags interval,timeout; }',
      'add chain inet smtpstrike input { type filter hook input priority filter - 10; policy accept; }',
      '',
    ].join('\n'),
  );
  assert.equal(
    b.rulesScript(),
    [
      'flush chain inet smtpstrike input',
      'add rule inet smtpstrike input ip saddr @blocked4 tcp dport { 25, 587 } counter reject with tcp reset comment "smtpstrike:ipv4:25,587"',
      'add rule inet smtpstrike input ip6 saddr @blocked6 tcp dport { 25, 587 } counter reject with tcp reset comment "smtpstrike:ipv6:25,587"',
      '',
    ].join('\n'),
  );
  assert.equal(b.flushScript(), 'flush set inet smtpstrike blocked4\nflush set inet smtpstrike blocked6\n');
  assert.equal(b.cleanupScript(), 'add table inet smtpstrike\ndelete table inet smtpstrike\n');
  assert.throws(() => new NftBlocker({ ports: [], runner: new FakeRunner() }), BlockerError);
  assert.throws(() => new NftBlocker({ ports: [0], runner: new FakeRunner() }), BlockerError);
  assert.throws(() => new NftBlocker({ ports: [25], netns: 'x; rm -rf /' }), BlockAddressError);
});

test('nft: one transaction per batch; recreate (delete + add) or plain re-add; chunked statements', () => {
  const b = new NftBlocker({ ports: [25, 587], runner: new FakeRunner(), chunk: 2 });
  const ops = normalizeOps([
    { op: 'add', addr: '10.0.0.1', timeoutSec: 60 },
    { op: 'add', addr: '10.0.0.2' },
    { op: 'del', addr: '10.0.0.3' },
    { op: 'add', addr: '2001:db8::/64', timeoutSec: 1200 },
    { op: 'del', addr: '2001:db8:1::1' },
  ]);
  assert.equal(
    b.opsScript(ops, 'recreate'),
    [
      'add element inet smtpstrike blocked4 { 10.0.0.1, 10.0.0.2 }',
      'add element inet smtpstrike blocked4 { 10.0.0.3 }',
      'delete element inet smtpstrike blocked4 { 10.0.0.1, 10.0.0.2 }',
      'delete element inet smtpstrike blocked4 { 10.0.0.3 }',
      'add element inet smtpstrike blocked4 { 10.0.0.1 timeout 60s, 10.0.0.2 }',
      'add element inet smtpstrike blocked6 { 2001:db8::/64, 2001:db8:1::1 }',
      'delete element inet smtpstrike blocked6 { 2001:db8::/64, 2001:db8:1::1 }',
      'add element inet smtpstrike blocked6 { 2001:db8::/64 timeout 1200s }',
      '',
    ].join('\n'),
  );
  assert.equal(
    b.opsScript(ops, 'readd'),
    [
      'add element inet smtpstrike blocked4 { 10.0.0.3 }',
      'delete element inet smtpstrike blocked4 { 10.0.0.3 }',
      'add element inet smtpstrike blocked4 { 10.0.0.1 timeout 60s, 10.0.0.2 }',
      'add element inet smtpstrike blocked6 { 2001:db8:1::1 }',
      'delete element inet smtpstrike blocked6 { 2001:db8:1::1 }',
      'add element inet smtpstrike blocked6 { 2001:db8::/64 timeout 1200s }',
      '',
    ].join('\n'),
  );
});

test('nft: overlapping IPv6 intervals are planned against the set: wider replaces narrower, narrower inside wider is skipped', () => {
  const b = new NftBlocker({ ports: [25], runner: new FakeRunner() });
  const existing = ['2001:db8:1::/64', '2001:db8:2::5', '2001:db8:3::/64'].map((a) => parseBlockAddr(a));
  const ops = normalizeOps([
    { op: 'add', addr: '2001:db8:1::7', timeoutSec: 10 }, // inside 2001:db8:1::/64: skipped
    { op: 'add', addr: '2001:db8:2::/48', timeoutSec: 20 }, // covers 2001:db8:2::5: replaces it
    { op: 'add', addr: '2001:db8:3::/64', timeoutSec: 30 }, // present: refreshed
    { op: 'del', addr: '2001:db8:9::1' }, // absent: nothing
    { op: 'add', addr: '10.0.0.1', timeoutSec: 5 },
  ]);
  const { script, skipped } = b.conflictScript(ops, existing, 'readd');
  assert.deepEqual(skipped, ['2001:db8:1::7 (inside 2001:db8:1::/64)']);
  assert.equal(
    script,
    [
      'add element inet smtpstrike blocked4 { 10.0.0.1 timeout 5s }',
      'delete element inet smtpstrike blocked6 { 2001:db8:2::5 }',
      'add element inet smtpstrike blocked6 { 2001:db8:2::/48 timeout 20s }',
      'add element inet smtpstrike blocked6 { 2001:db8:3::/64 timeout 30s }',
      '',
    ].join('\n'),
  );
  // recreate: the present one is deleted first; a del of a present one is deleted once.
  const again = b.conflictScript(
    normalizeOps([
      { op: 'add', addr: '2001:db8:3::/64', timeoutSec: 30 },
      { op: 'del', addr: '2001:db8:1::/64' },
      { op: 'del', addr: '2001:db8:1::/64' },
      { op: 'add', addr: '2001:db8::/32', timeoutSec: 40 }, // covers everything left
    ]),
    existing,
    'recreate',
  );
  assert.deepEqual(again.skipped, []);
  assert.equal(
    again.script,
    [
      'delete element inet smtpstrike blocked6 { 2001:db8:3::/64 }',
      'add element inet smtpstrike blocked6 { 2001:db8:3::/64 timeout 30s }',
      'delete element inet smtpstrike blocked6 { 2001:db8:1::/64 }',
      'delete element inet smtpstrike blocked6 { 2001:db8:2::5 }',
      'delete element inet smtpstrike blocked6 { 2001:db8:3::/64 }',
      'add element inet smtpstrike blocked6 { 2001:db8::/32 timeout 40s }',
      '',
    ].join('\n'),
  );
});

// No time limit here (no test depends on the machine's speed): the planning finds overlaps by
// binary search over the sorted set; this checks its result at that size.
test('nft: overlap planning with 100,000 prefixes in the set and 20,000 ops skips each op inside a blocked prefix', () => {
  const b = new NftBlocker({ ports: [25], runner: new FakeRunner() });
  const existing = Array.from({ length: 100_000 }, (_, i) => parseBlockAddr(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`));
  const ops = normalizeOps([
    ...Array.from({ length: 20_000 }, (_, i) => ({
      op: 'add' as const,
      addr: `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::${(i + 1).toString(16)}`,
      timeoutSec: 60,
    })),
  ]);
  const { script, skipped } = b.conflictScript(ops, existing, 'readd');
  assert.equal(skipped.length, 20_000);
  assert.equal(skipped[0], '2001:db8:0:0::1 (inside 2001:db8::/64)'.replace('2001:db8:0:0::1', ops[0]!.a.addr));
  assert.equal(script, '');
});

test('nft: init lists the chain, creates what is missing, probes the refresh semantics once; idempotent', async () => {
  const chainJson = (comments: string[]): string =>
    JSON.stringify({ nftables: [{ metainfo: {} }, { chain: { name: 'input' } }, ...comments.map((c) => ({ rule: { chain: 'input', comment: c } }))] });
  let haveChain = false;
  const r = new FakeRunner((c) => {
    if (c.args.join(' ') === '-j -t list table inet smtpstrike') {
      return haveChain ? { stdout: chainJson(['smtpstrike:ipv4:25,587', 'smtpstrike:ipv6:25,587']) } : { code: 1, stderr: 'Error: No such file or directory' };
    }
    if (c.args.join(' ') === '-j list set inet smtpstrike refresh_probe') {
      return {
        stdout: JSON.stringify({ nftables: [{ set: { name: 'refresh_probe', elem: [{ elem: { val: '192.0.2.1', timeout: 1000, expires: 999 } }] } }] }),
      };
    }
    return {};
  });
  const b = new NftBlocker({ ports: [25, 587], runner: r });
  await b.init();
  const scripts = r.calls.filter((c) => c.args[0] === '-f').map((c) => c.input);
  assert.equal(scripts[0], b.structureScript() + b.rulesScript());
  assert.deepEqual(scripts.slice(1), b.probeScripts());
  assert.equal(b.refreshMode, 'readd');
  assert.ok(r.calls.every((c) => c.cmd === 'nft'));
  // Second init with the rules in place: the structure script only (add on existing objects is a no-op), no probe.
  haveChain = true;
  r.calls = [];
  await b.init();
  assert.deepEqual(
    r.calls.map((c) => c.args.join(' ')),
    ['-j -t list table inet smtpstrike', '-f -'],
  );
  assert.equal(r.calls[1]!.input, b.structureScript());
  // Rules made for other ports are re-made.
  const b2 = new NftBlocker({ ports: [25, 465, 587], runner: r, refresh: 'recreate' });
  r.calls = [];
  await b2.init();
  assert.equal(r.calls[1]!.input, b2.structureScript() + b2.rulesScript());
});

test('nft: a kernel that keeps the old timeout on re-add selects recreate', async () => {
  const r = new FakeRunner((c) =>
    c.args.includes('refresh_probe') && c.args[0] === '-j'
      ? { stdout: JSON.stringify({ nftables: [{ set: { name: 'refresh_probe', elem: [{ elem: { val: '192.0.2.1', timeout: 100, expires: 99 } }] } }] }) }
      : {},
  );
  const b = new NftBlocker({ ports: [25], runner: r });
  await b.apply([{ op: 'add', addr: '10.0.0.1', timeoutSec: 5 }]);
  assert.equal(b.refreshMode, 'recreate');
  assert.equal(r.calls.at(-1)!.input, b.opsScript(normalizeOps([{ op: 'add', addr: '10.0.0.1', timeoutSec: 5 }]), 'recreate'));
});

test('nft: an invalid address fails the whole apply before any command runs', async () => {
  const r = new FakeRunner();
  const b = new NftBlocker({ ports: [25], runner: r, refresh: 'readd' });
  await assert.rejects(
    b.apply([
      { op: 'add', addr: '10.0.0.1' },
      { op: 'add', addr: '1.2.3.4; flush ruleset' },
    ]),
    BlockAddressError,
  );
  assert.equal(r.calls.length, 0);
});

test('nft: list parses nft -j elements (plain, with timeout, prefix, no timeout); absent table is empty', async () => {
  const items = [
    { set: { name: 'blocked4', elem: ['10.0.0.9', { elem: { val: '10.0.0.1', timeout: 60, expires: 57 } }] } },
    {
      set: {
        name: 'blocked6',
        elem: [
          { elem: { val: { prefix: { addr: '2001:db8::', len: 64 } }, timeout: 1200, expires: 1199 } },
          { elem: { val: '2001:db8:1::5', timeout: 10, expires: 3 } },
        ],
      },
    },
  ];
  assert.deepEqual(parseNftSet(items, 'blocked4'), [
    { addr: '10.0.0.9', expiresInSec: null },
    { addr: '10.0.0.1', expiresInSec: 57 },
  ]);
  assert.deepEqual(parseNftSet(items, 'blocked6'), [
    { addr: '2001:db8::/64', expiresInSec: 1199 },
    { addr: '2001:db8:1::5', expiresInSec: 3 },
  ]);
  const b = new NftBlocker({
    ports: [25],
    runner: new FakeRunner(() => ({ code: 1, stderr: 'Error: No such file or directory\nlist table inet smtpstrike' })),
  });
  assert.deepEqual(await b.list(), []);
  const denied = new NftBlocker({
    ports: [25],
    runner: new FakeRunner(() => ({ code: 1, stderr: 'netlink: Error: cache initialization failed: Operation not permitted' })),
  });
  await assert.rejects(denied.list(), (e: unknown) => e instanceof BlockerError && e.kind === 'permission' && /CAP_NET_ADMIN/.test(e.message));
});

// ------------------------------------------------------------------------------------------
// ipset

test('ipset: sets, batches and rules, exactly', () => {
  const b = new IpsetBlocker({ ports: [587, 25], runner: new FakeRunner() });
  assert.equal(
    b.createScript(),
    'create smtpstrike4 hash:ip family inet hashsize 1024 maxelem 1048576 timeout 0\n' +
      'create smtpstrike6 hash:net family inet6 hashsize 1024 maxelem 1048576 timeout 0\n',
  );
  assert.equal(
    b.opsScript(
      normalizeOps([
        { op: 'add', addr: '10.0.0.1', timeoutSec: 60 },
        { op: 'add', addr: '10.0.0.2' },
        { op: 'del', addr: '10.0.0.3' },
        { op: 'add', addr: '2001:db8::9/64', timeoutSec: 1200 },
        { op: 'del', addr: '2001:db8:1::1' },
      ]),
    ),
    [
      'add smtpstrike4 10.0.0.1 timeout 60',
      'add smtpstrike4 10.0.0.2 timeout 0',
      'del smtpstrike4 10.0.0.3',
      'add smtpstrike6 2001:db8::/64 timeout 1200',
      'del smtpstrike6 2001:db8:1::1',
      '',
    ].join('\n'),
  );
  assert.equal(
    b.ruleArgs(4).join(' '),
    '-p tcp -m multiport --dports 25,587 -m set --match-set smtpstrike4 src -m comment --comment smtpstrike -j REJECT --reject-with tcp-reset',
  );
  assert.equal(
    b.ruleArgs(6).join(' '),
    '-p tcp -m multiport --dports 25,587 -m set --match-set smtpstrike6 src -m comment --comment smtpstrike -j REJECT --reject-with tcp-reset',
  );
  assert.throws(() => new IpsetBlocker({ ports: Array.from({ length: 16 }, (_, i) => i + 1), runner: new FakeRunner() }), /at most 15/);
  assert.deepEqual(
    IpsetBlocker.parseSave(
      [
        'create smtpstrike4 hash:ip family inet hashsize 1024 maxelem 1048576 timeout 0 bucketsize 12 initval 0x8fec8bf0',
        'add smtpstrike4 10.0.0.2 timeout 0',
        'add smtpstrike4 10.0.0.1 timeout 99',
        'add other 10.0.0.7 timeout 5',
      ].join('\n'),
      'smtpstrike4',
    ),
    [
      { addr: '10.0.0.2', expiresInSec: null },
      { addr: '10.0.0.1', expiresInSec: 99 },
    ],
  );
});

test('ipset: init removes our stale rule (other ports), inserts the rule only when -C says it is missing', async () => {
  const stale = '-A INPUT -p tcp -m multiport --dports 25 -m set --match-set smtpstrike4 src -m comment --comment smtpstrike -j REJECT --reject-with tcp-reset';
  const foreign = '-A INPUT -p tcp -m set --match-set smtpstrike4 src -j ACCEPT';
  const r = new FakeRunner((c) => {
    if (c.args.join(' ') === '-w -S INPUT') return { stdout: c.cmd === 'iptables' ? `-P INPUT ACCEPT\n${foreign}\n${stale}\n` : '-P INPUT ACCEPT\n' };
    if (c.args[1] === '-C') return c.cmd === 'iptables' ? { code: 1, stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).' } : {};
    return {};
  });
  const b = new IpsetBlocker({ ports: [25, 587], runner: r });
  await b.init();
  assert.deepEqual(
    r.calls.map((c) => `${c.cmd} ${c.args.join(' ')}`),
    [
      'ipset restore -exist',
      'iptables -w -S INPUT',
      'iptables -w -D INPUT -p tcp -m multiport --dports 25 -m set --match-set smtpstrike4 src -m comment --comment smtpstrike -j REJECT --reject-with tcp-reset',
      `iptables -w -C INPUT ${b.ruleArgs(4).join(' ')}`,
      `iptables -w -I INPUT 1 ${b.ruleArgs(4).join(' ')}`,
      'ip6tables -w -S INPUT',
      `ip6tables -w -C INPUT ${b.ruleArgs(6).join(' ')}`,
      // No tarpit: only a look for a nat rule an earlier tarpit left (none here).
      'iptables -w -t nat -S PREROUTING',
      'ip6tables -w -t nat -S PREROUTING',
    ],
  );
  assert.equal(r.calls[0]!.input, b.createScript());
});

// ------------------------------------------------------------------------------------------
// iptables

test('iptables: per-address rules carry their expiry; expired and re-added ones are deleted in the same restore', () => {
  const now = 1_700_000_000_000;
  const b = new IptablesBlocker({ ports: [25, 587], runner: new FakeRunner(), now: () => now });
  const listing = [
    '-N SMTPSTRIKE',
    '-A SMTPSTRIKE -s 10.0.0.1/32 -p tcp -m comment --comment "smtpstrike:exp=1700000100" -j REJECT --reject-with tcp-reset',
    '-A SMTPSTRIKE -s 10.0.0.2/32 -p tcp -m comment --comment "smtpstrike:exp=1699999999" -j REJECT --reject-with tcp-reset',
    '-A SMTPSTRIKE -s 10.0.0.3/32 -p tcp -m comment --comment "smtpstrike:exp=never" -j REJECT --reject-with tcp-reset',
    '-A SMTPSTRIKE -s 10.0.0.4/32 -j ACCEPT',
  ].join('\n');
  const current = parseChain(listing);
  assert.deepEqual(current, [
    { source: '10.0.0.1/32', addr: '10.0.0.1', exp: 1_700_000_100 },
    { source: '10.0.0.2/32', addr: '10.0.0.2', exp: 1_699_999_999 },
    { source: '10.0.0.3/32', addr: '10.0.0.3', exp: null },
  ]);
  const script = b.restoreScript(
    current,
    normalizeOps([
      { op: 'add', addr: '10.0.0.1', timeoutSec: 600 },
      { op: 'add', addr: '10.0.0.9' },
      { op: 'del', addr: '10.0.0.3' },
    ]),
  );
  assert.equal(
    script,
    [
      '*filter',
      '-D SMTPSTRIKE -s 10.0.0.1/32 -p tcp -m comment --comment smtpstrike:exp=1700000100 -j REJECT --reject-with tcp-reset',
      '-D SMTPSTRIKE -s 10.0.0.2/32 -p tcp -m comment --comment smtpstrike:exp=1699999999 -j REJECT --reject-with tcp-reset',
      '-D SMTPSTRIKE -s 10.0.0.3/32 -p tcp -m comment --comment smtpstrike:exp=never -j REJECT --reject-with tcp-reset',
      '-A SMTPSTRIKE -s 10.0.0.1/32 -p tcp -m comment --comment smtpstrike:exp=1700000600 -j REJECT --reject-with tcp-reset',
      '-A SMTPSTRIKE -s 10.0.0.9/32 -p tcp -m comment --comment smtpstrike:exp=never -j REJECT --reject-with tcp-reset',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const six = b.restoreScript(
    [],
    normalizeOps([
      { op: 'add', addr: '2001:db8::/64', timeoutSec: 5 },
      { op: 'add', addr: '2001:db8:1::1', timeoutSec: 5 },
    ]),
  );
  assert.match(six, /-A SMTPSTRIKE -s 2001:db8::\/64 -p tcp .*exp=1700000005 /);
  assert.match(six, /-A SMTPSTRIKE -s 2001:db8:1::1\/128 -p tcp /);
  assert.equal(
    b.restoreScript(
      current.filter((r) => r.exp === null || r.exp > 1_700_000_000),
      [],
    ),
    '',
  );
  assert.equal(b.jumpArgs().join(' '), '-p tcp -m multiport --dports 25,587 -m comment --comment smtpstrike -j SMTPSTRIKE');
});

test('iptables: apply reads the chain and runs one iptables-restore --noflush per family', async () => {
  const r = new FakeRunner((c) => (c.args.join(' ') === '-w -S SMTPSTRIKE' ? { stdout: '-N SMTPSTRIKE\n' } : {}));
  const b = new IptablesBlocker({ ports: [25], runner: r, now: () => 1_700_000_000_000 });
  await b.apply([
    { op: 'add', addr: '10.0.0.1', timeoutSec: 10 },
    { op: 'add', addr: '2001:db8::1', timeoutSec: 10 },
  ]);
  assert.deepEqual(
    r.calls.map((c) => `${c.cmd} ${c.args.join(' ')}`),
    ['iptables -w -S SMTPSTRIKE', 'iptables-restore -w --noflush', 'ip6tables -w -S SMTPSTRIKE', 'ip6tables-restore -w --noflush'],
  );
});

// ------------------------------------------------------------------------------------------
// dry-run, factory, runner

test('dry-run: logs, keeps blocks in memory, expires them on its clock', async () => {
  let now = 1_000_000;
  const log = memLogger();
  const b = new DryRunBlocker({ logger: log, now: () => now });
  await b.init();
  await b.apply([
    { op: 'add', addr: '10.0.0.1', timeoutSec: 2 },
    { op: 'add', addr: '2001:db8::1/64' },
  ]);
  assert.deepEqual(await b.list(), [
    { addr: '10.0.0.1', expiresInSec: 2 },
    { addr: '2001:db8::/64', expiresInSec: null },
  ]);
  assert.ok(log.lines.some((l) => l.msg === 'dry-run: would block 10.0.0.1'));
  now += 2500;
  assert.deepEqual(
    (await b.list()).map((e) => e.addr),
    ['2001:db8::/64'],
  );
  await b.apply([{ op: 'del', addr: '2001:db8::/64' }]);
  assert.deepEqual(await b.list(), []);
});

test('factory and runner: backends by name; missing binaries and namespaces named with their fix', async () => {
  for (const n of ['nft', 'ipset', 'iptables', 'dry-run'] as const) assert.equal(createBlocker(n, { ports: [25] }).name, n);
  assert.throws(() => createBlocker('pf' as 'nft', { ports: [25] }), BlockerError);
  assert.match(missingBinary('nft').message, /apt-get install nftables/);
  assert.match(missingBinary('ipset').message, /apt-get install ipset/);
  assert.match(missingBinary('ip6tables-restore').message, /apt-get install iptables/);
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent-smtpstrike-test'; // a PATH entry we may not read would say EACCES instead
  try {
    await assert.rejects(
      new SpawnRunner().run('nft', ['list', 'ruleset']),
      (e: unknown) => e instanceof BlockerError && e.kind === 'missing-binary' && /apt-get install nftables/.test(e.message),
    );
  } finally {
    process.env.PATH = path;
  }
  const ok = await new SpawnRunner().run(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], 'hello\n');
  assert.deepEqual(ok, { code: 0, stdout: 'hello\n', stderr: '' });
  assert.throws(() => new SpawnRunner({ netns: '../etc' }), BlockAddressError);
  assert.throws(() => new SpawnRunner({ netns: '-x' }), BlockAddressError);
  // A pino logger is a BlockLogger.
  const p: BlockLogger = pino({ level: 'silent' });
  p.info({ a: 1 }, 'compiles');
});

/** The CLI under test (SMTPSTRIKE_CLI overrides, e.g. to try another build). */
const CLI = process.env.SMTPSTRIKE_CLI ?? 'dist/src/cli.js';

test('cli: a missing nft binary is one clear line and exit code 1, no stack trace', () => {
  const r = spawnSync(process.execPath, [CLI, 'blocks', 'list'], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /nft not found: install it with "apt-get install nftables"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const bad = spawnSync(process.execPath, [CLI, 'blocks', 'add', '1.2.3.4; flush ruleset'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: '/nonexistent' },
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /not an IP address/);
});

// ------------------------------------------------------------------------------------------
// BlockBatcher

test('batcher: 100 ops in one tick are one apply()', async () => {
  const b = new RecordingBlocker();
  const q = new BlockBatcher(b, { tickMs: 30 });
  for (let i = 0; i < 100; i++) q.add(`10.0.${i >> 8}.${i & 255}`, 60);
  assert.equal(b.applies.length, 0, 'nothing before the tick');
  await waitFor(() => b.applies.length > 0, 'the tick applies the batch');
  assert.equal(b.applies.length, 1);
  assert.equal(b.applies[0]!.length, 100);
  await q.close();
});

test('batcher: flushAt ops start an apply at once, without waiting for the tick', async () => {
  const b = new RecordingBlocker();
  // The tick (an hour) cannot be what starts the apply within the deadline.
  const q = new BlockBatcher(b, { tickMs: 3_600_000, flushAt: 50 });
  for (let i = 0; i < 49; i++) q.add(`10.1.0.${i}`);
  await yieldToOthers();
  assert.equal(b.applies.length, 0, '49 ops wait for the tick');
  q.add('10.1.0.49');
  await waitFor(() => b.applies.length === 1, 'the 50th op starts an apply');
  await q.close();
});

test('batcher: a slow apply makes the next batch wait (one in flight) and it goes as one; nothing lost', async () => {
  const b = new RecordingBlocker();
  const release = b.hold(); // the first apply stays in flight until released
  const q = new BlockBatcher(b, { tickMs: 10 });
  q.add('10.2.0.1', 60);
  await waitFor(() => b.inFlight === 1, 'the first apply is in flight');
  for (let i = 2; i < 202; i++) q.add(`10.2.0.${i % 256}`, 60);
  for (let i = 0; i < 300; i++) q.add(`10.3.${i >> 8}.${i & 255}`, 60);
  await yieldToOthers();
  assert.equal(b.applies.length, 0);
  assert.equal(b.inFlight, 1, 'no second apply while the first is in flight');
  release();
  await q.flush();
  assert.equal(b.maxInFlight, 1);
  assert.equal(b.applies.length, 2);
  assert.equal(b.applies[1]!.length, 500, '10.2.0.2..10.2.0.201 and 300 more, together');
  assert.equal(b.state.size, 1 + 200 + 300);
});

test('batcher: random ops under a slow backend end in exactly the state of applying them in order', async () => {
  let seed = 7;
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const b = new RecordingBlocker(5);
  const q = new BlockBatcher(b, { tickMs: 2, flushAt: 64, maxOpsPerApply: 500 });
  const expect = new Map<string, number | null>();
  for (let i = 0; i < 5000; i++) {
    const addr = `10.4.${rnd(8)}.${rnd(256)}`;
    if (rnd(4) === 0) {
      q.del(addr);
      expect.delete(addr);
    } else {
      const t = 1 + rnd(1000);
      q.add(addr, t);
      expect.set(addr, t);
    }
    if (i % 97 === 0) await new Promise((r) => setTimeout(r, 1)); // interleave pushes with applies in flight (no timing asserted)
  }
  await q.close();
  assert.deepEqual(new Map([...b.state].sort()), new Map([...expect].sort()));
  assert.equal(b.maxInFlight, 1);
  assert.ok(q.stats.coalesced > 0);
  assert.equal(q.stats.failed, 0);
  assert.ok(b.applies.every((a) => a.length <= 500));
});

test('batcher: past the high-water mark push() says so, nothing is dropped', async () => {
  const b = new RecordingBlocker(20);
  const q = new BlockBatcher(b, { tickMs: 5, highWaterMark: 100, flushAt: 10_000 });
  let sawFalse = false;
  for (let i = 0; i < 1000; i++) if (!q.add(`10.5.${i >> 8}.${i & 255}`)) sawFalse = true;
  assert.ok(sawFalse);
  await q.ready();
  assert.ok(q.queued <= 100);
  await q.drain();
  assert.equal(b.state.size, 1000);
  // A restore of 300,000 blocks at start: pushAll takes any length (a spread would overflow the stack).
  const big = new RecordingBlocker();
  const r = new BlockBatcher(big, { maxOpsPerApply: 100_000 });
  r.pushAll(Array.from({ length: 300_000 }, (_, i) => ({ op: 'add' as const, addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, timeoutSec: 60 })));
  await r.close();
  assert.equal(big.state.size, 300_000);
  assert.deepEqual(
    big.applies.map((a) => a.length),
    [100_000, 100_000, 100_000],
  );
});

test('batcher: a failed apply is retried once; twice failed is logged and counted', async () => {
  const log = memLogger();
  const once = new RecordingBlocker(0, 1);
  let q = new BlockBatcher(once, { tickMs: 1, retryDelayMs: 1, logger: log });
  q.add('10.6.0.1');
  await q.close();
  assert.equal(once.state.size, 1);
  assert.equal(q.stats.retries, 1);
  assert.ok(log.lines.some((l) => l.level === 'warn' && /retrying once/.test(l.msg)));

  // A backend that cannot run at all (no privilege): no splitting, the ops are logged as not applied.
  const denied = new RecordingBlocker(0, 1_000_000, '', () => new BlockerError('permission', 'nft: not permitted'));
  q = new BlockBatcher(denied, { tickMs: 1, retryDelayMs: 1, logger: log });
  q.add('10.6.0.2');
  q.add('10.6.0.3');
  await q.close();
  assert.equal(q.stats.failed, 2);
  assert.equal(q.stats.splits, 0);
  assert.ok(log.lines.some((l) => l.level === 'error' && /failed twice/.test(l.msg)));
});

test('batcher: one op the kernel rejects does not take the rest of its batch down', async () => {
  const poisoned = new RecordingBlocker(0, 0, '10.6.1.66');
  const q = new BlockBatcher(poisoned, { tickMs: 1, retryDelayMs: 1 });
  for (let i = 0; i < 100; i++) q.add(`10.6.1.${i}`);
  await q.close();
  assert.equal(poisoned.state.size, 99, 'every other block applied');
  assert.equal(poisoned.state.has('10.6.1.66'), false);
  assert.equal(q.stats.failed, 1);
  assert.ok(q.stats.splits >= 1);
});

test('batcher: a bad address throws at push and queues nothing of that call; maintain runs when idle', async () => {
  const b = new RecordingBlocker();
  const q = new BlockBatcher(b, { tickMs: 1, maintainMs: 10 });
  assert.throws(() => q.push({ op: 'add', addr: '10.7.0.1' }, { op: 'add', addr: '1.2.3.4; flush ruleset' }), BlockAddressError);
  assert.equal(q.queued, 0);
  q.push({ op: 'add', addr: '10.7.0.1' }, { op: 'add', addr: '10.7.0.1', timeoutSec: 9 });
  assert.equal(q.queued, 1);
  await waitFor(() => b.maintained >= 1, 'maintain() runs');
  await q.close();
  assert.deepEqual(b.applies, [[{ op: 'add', addr: '10.7.0.1', timeoutSec: 9 }]]);
  assert.throws(() => q.add('10.7.0.2'), /closed/);
});
