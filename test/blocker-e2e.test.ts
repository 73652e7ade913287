/**
 * Blockers against the real kernel, in network namespaces made for this run (root only; says
 * SKIPPED loudly otherwise). The test bed (scripts/testbed/lib.sh) gives a server namespace
 * (10.200.0.1) and a client namespace (10.200.0.2-9); a tiny node TCP server answers "220" on
 * ports 25, 587 and 2525 in the server namespace, and a node agent in the client namespace opens
 * connections from a chosen source address. A third namespace holds IPv6 on its loopback.
 * Every nft / ipset / iptables command runs inside these namespaces (the blockers' netns option).
 *
 * For each backend: init is idempotent; a block refuses the blocked source on the SMTP ports only,
 * cuts its established session, leaves other sources alone; re-adding sets the timeout anew; a
 * timeout ends the block by itself (nft, ipset) or at the next maintenance (iptables); the CLI
 * lists the block with its expiry; IPv6 addresses and /64 prefixes block; cleanup leaves no trace.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockBatcher } from '../src/blocker/batcher.js';
import type { Blocker, BlockEntry } from '../src/blocker/types.js';
import { createBlocker } from '../src/blocker/index.js';
import { NftBlocker } from '../src/blocker/nft.js';
import { Agent, AGENT, have, LISTENER, NodeChildren, sh } from './support/netns-nodes.js';

const isRoot = process.getuid?.() === 0;
const CLI = process.env.SMTPSTRIKE_CLI ?? 'dist/src/cli.js';
const PREFIX = `sstblk${process.pid % 100000}`;
const SRV = `${PREFIX}-srv`;
const CLIENT = `${PREFIX}-cli`;
const V6 = `${PREFIX}-v6`;
const SERVER = '10.200.0.1';
const V6_SERVER = '2001:db8:ffff::1';
const V6_BAD = ['2001:db8:bad::1', '2001:db8:bad::2'];
const V6_GOOD = '2001:db8:600d::1';
const PORTS = [25, 587];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function inNs(ns: string, ...args: string[]): string {
  const r = sh(['ip', 'netns', 'exec', ns, ...args]);
  return `${r.stdout}${r.stderr}`;
}

const nodes = new NodeChildren();

// ------------------------------------------------------------------------------------------
// set-up and tear-down

let tbDir = '';
let agent: Agent;
let agent6: Agent;
let upOk = false;

function teardown(): void {
  nodes.killAll();
  if (tbDir) {
    sh(['bash', '-c', '. scripts/testbed/lib.sh && tb_down'], { TB_PREFIX: PREFIX, TB_DIR: tbDir, TB_SRV_NS: SRV, TB_CLI_NS: CLIENT });
    tbDir = '';
  }
  if (
    sh(['ip', 'netns', 'list'])
      .stdout.split('\n')
      .some((l) => l.split(' ')[0] === V6)
  )
    sh(['ip', 'netns', 'del', V6]);
}

function onSignal(): void {
  teardown();
  process.exit(130);
}

before(async () => {
  if (!isRoot) return;
  process.once('exit', teardown);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const up = sh(['bash', '-c', '. scripts/testbed/lib.sh && tb_up >&2 && echo "$TB_DIR"'], { TB_PREFIX: PREFIX });
  tbDir = up.stdout.trim();
  assert.equal(up.status, 0, `tb_up failed: ${up.stderr}`);
  assert.ok(tbDir.startsWith('/tmp/'), `TB_DIR: ${tbDir}`);
  const cmds = [
    ['ip', 'netns', 'add', V6],
    ['ip', '-n', V6, 'link', 'set', 'lo', 'up'],
    ...[V6_SERVER, ...V6_BAD, V6_GOOD].map((a) => ['ip', '-n', V6, '-6', 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad']),
  ];
  for (const c of cmds) assert.equal(sh(c).status, 0, c.join(' '));
  await nodes.start(SRV, LISTENER, [JSON.stringify([25, 587, 2525]), '0.0.0.0']);
  const a = await nodes.start(CLIENT, AGENT, []);
  agent = new Agent(a.child, a.lines, SERVER);
  await nodes.start(V6, LISTENER, [JSON.stringify([25, 587, 2525]), '::']);
  const a6 = await nodes.start(V6, AGENT, []);
  agent6 = new Agent(a6.child, a6.lines, SERVER);
  upOk = true;
});

after(() => {
  teardown();
  process.removeListener('exit', teardown);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
});

// ------------------------------------------------------------------------------------------
// the scenario, per backend

type Backend = 'nft' | 'ipset' | 'iptables';

function snapshot(backend: Backend, ns: string): string {
  if (backend === 'nft') return inNs(ns, 'nft', '-j', 'list', 'table', 'inet', 'smtpstrike');
  const ipt = inNs(ns, 'iptables', '-S') + inNs(ns, 'ip6tables', '-S');
  return backend === 'ipset' ? ipt + inNs(ns, 'ipset', 'save') : ipt;
}

/** Everything smtpstrike could have left in the namespace, as text. */
function traces(ns: string): string {
  return [inNs(ns, 'nft', 'list', 'ruleset'), have('ipset') ? inNs(ns, 'ipset', 'list', '-n') : '']
    .join('\n')
    .split('\n')
    .filter((l) => /smtpstrike/i.test(l))
    .join('\n');
}

function entry(list: BlockEntry[], addr: string): BlockEntry | undefined {
  return list.find((e) => e.addr === addr);
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return sh([process.execPath, CLI, 'blocks', ...args]);
}

function make(backend: Backend, ns: string, recreate = false): Blocker {
  if (backend === 'nft' && recreate) return new NftBlocker({ ports: PORTS, netns: ns, refresh: 'recreate' });
  return createBlocker(backend, { ports: PORTS, netns: ns });
}

const NEEDS: Record<Backend, string[]> = {
  nft: ['nft'],
  ipset: ['ipset', 'iptables', 'ip6tables'],
  iptables: ['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'],
};

function scenario(backend: Backend, recreate = false): void {
  const label = `${backend}${recreate ? ' (refresh by delete + add, as on kernels that keep the old timeout)' : ''}`;
  test(`blocker e2e: ${label}: blocks, refreshes, expires, lists, cleans up`, { timeout: 90_000 }, async (t) => {
    if (!isRoot) {
      process.stderr.write(`SKIPPED LOUDLY: blocker-e2e (${label}) needs root (network namespaces, firewall); run npm test as root\n`);
      t.skip('needs root');
      return;
    }
    const missing = NEEDS[backend].filter((c) => !have(c));
    if (missing.length > 0) {
      process.stderr.write(`SKIPPED LOUDLY: blocker-e2e (${label}): not installed: ${missing.join(', ')} (scripts/install-deps.sh testbed)\n`);
      t.skip(`missing ${missing.join(', ')}`);
      return;
    }
    assert.ok(upOk, 'test bed up');
    const b = make(backend, SRV, recreate);
    try {
      await b.cleanup();
      assert.equal(traces(SRV), '', 'clean start');

      // init creates everything; a second init (another process, as after a restart) changes nothing.
      await b.init();
      const snap = snapshot(backend, SRV);
      assert.match(snap, /smtpstrike/i);
      await make(backend, SRV, recreate).init();
      assert.equal(snapshot(backend, SRV), snap, 'init is idempotent');

      assert.equal(await agent.probe('10.200.0.2', 587), 'ok', 'baseline');
      assert.equal(await agent.open('held', '10.200.0.4', 587), 'ok', 'a session from .4 is open');

      // Block through the batcher, as watch does.
      const q = new BlockBatcher(b, { tickMs: 20 });
      q.push({ op: 'add', addr: '10.200.0.2', timeoutSec: 60 }, { op: 'add', addr: '10.200.0.4', timeoutSec: 60 });
      await q.close();
      assert.equal(q.stats.batches, 1);
      assert.equal(await agent.probe('10.200.0.2', 587), 'refused', 'blocked on 587');
      assert.equal(await agent.probe('10.200.0.2', 25), 'refused', 'blocked on 25');
      assert.equal(await agent.probe('10.200.0.2', 2525), 'ok', 'other ports stay open');
      assert.equal(await agent.probe('10.200.0.3', 587), 'ok', 'other sources still connect');
      assert.equal(await agent.poke('held'), 'reset', 'the established session of a blocked source is cut at its next packet');

      let list = await b.list();
      const e2 = entry(list, '10.200.0.2');
      assert.ok(e2 && e2.expiresInSec !== null && e2.expiresInSec >= 55 && e2.expiresInSec <= 60, `listed with its expiry: ${JSON.stringify(list)}`);

      // Re-adding sets the timeout anew: shorter, then (after time passed) longer again.
      await b.apply([{ op: 'add', addr: '10.200.0.2', timeoutSec: 5 }]);
      list = await b.list();
      assert.ok((entry(list, '10.200.0.2')?.expiresInSec ?? 99) <= 5, `re-add with 5 s: ${JSON.stringify(list)}`);
      await sleep(1100);
      await b.apply([{ op: 'add', addr: '10.200.0.2', timeoutSec: 30 }]);
      list = await b.list();
      assert.ok((entry(list, '10.200.0.2')?.expiresInSec ?? 0) >= 28, `re-add with 30 s refreshed it: ${JSON.stringify(list)}`);
      assert.equal(await agent.probe('10.200.0.2', 587), 'refused');

      await b.apply([
        { op: 'del', addr: '10.200.0.2' },
        { op: 'del', addr: '10.200.0.9' },
      ]);
      assert.equal(await agent.probe('10.200.0.2', 587), 'ok', 'unblocked (deleting an absent address is no error)');

      // A 2 s block ends by itself (kernel timeouts), or at the next maintenance (iptables).
      await b.apply([{ op: 'add', addr: '10.200.0.5', timeoutSec: 2 }]);
      const t0 = Date.now();
      assert.equal(await agent.probe('10.200.0.5', 587), 'refused');
      await sleep(Math.max(0, 2300 - (Date.now() - t0)));
      if (backend === 'iptables') {
        assert.equal(await agent.probe('10.200.0.5', 587), 'refused', 'iptables has no kernel timeout: the rule stays until maintenance');
        await b.maintain!();
      }
      assert.equal(await agent.probe('10.200.0.5', 587), 'ok', 'the block expired');
      assert.equal(entry(await b.list(), '10.200.0.5'), undefined);

      // The CLI, in the same namespace.
      const add = cli('add', '10.200.0.6', '--timeout', '120', '--netns', SRV, '--backend', backend);
      assert.equal(add.status, 0, add.stderr);
      const ls = cli('list', '--json', '--netns', SRV, '--backend', backend);
      assert.equal(ls.status, 0, ls.stderr);
      const doc = JSON.parse(ls.stdout) as { blocks: { addr: string; expires_in_s: number | null; until_time: string | null }[] };
      const c6 = doc.blocks.find((x) => x.addr === '10.200.0.6');
      assert.ok(c6 && c6.expires_in_s !== null && c6.expires_in_s >= 115 && c6.expires_in_s <= 120 && c6.until_time, ls.stdout);
      assert.equal(await agent.probe('10.200.0.6', 587), 'refused');

      await b.flush();
      assert.deepEqual(await b.list(), []);
      assert.equal(await agent.probe('10.200.0.6', 587), 'ok', 'flushed');

      const clean = cli('cleanup', '--netns', SRV, '--backend', backend);
      assert.equal(clean.status, 0, clean.stderr);
      assert.equal(traces(SRV), '', 'cleanup leaves no trace');
      assert.equal(await agent.probe('10.200.0.4', 587), 'ok');
    } finally {
      await b.cleanup().catch(() => undefined);
    }

    // IPv6: an address and a /64 prefix, in the IPv6 namespace (loopback).
    const b6 = make(backend, V6, recreate);
    try {
      await b6.init();
      await b6.apply([{ op: 'add', addr: '2001:db8:bad::/64', timeoutSec: 60 }]);
      for (const a of V6_BAD) assert.equal(await agent6.probe(a, 587, V6_SERVER), 'refused', `${a} inside the blocked /64`);
      assert.equal(await agent6.probe(V6_GOOD, 587, V6_SERVER), 'ok');
      await b6.apply([
        { op: 'add', addr: V6_GOOD, timeoutSec: 60 },
        { op: 'add', addr: '2001:db8:bad::2', timeoutSec: 60 },
      ]);
      assert.equal(await agent6.probe(V6_GOOD, 587, V6_SERVER), 'refused', 'single IPv6 address blocked');
      assert.equal(await agent6.probe(V6_BAD[1]!, 587, V6_SERVER), 'refused');
      const l6 = (await b6.list()).map((e) => e.addr);
      assert.ok(l6.includes('2001:db8:bad::/64') && l6.includes(V6_GOOD), JSON.stringify(l6));
      await b6.cleanup();
      assert.equal(traces(V6), '');
      assert.equal(await agent6.probe(V6_GOOD, 587, V6_SERVER), 'ok');
    } finally {
      await b6.cleanup().catch(() => undefined);
    }
  });
}

scenario('nft');
scenario('nft', true);
scenario('ipset');
scenario('iptables');

test('blocker e2e: no privilege or no namespace is one clear line and exit code 1', (t) => {
  if (!isRoot || !have('setpriv')) {
    process.stderr.write('SKIPPED LOUDLY: blocker-e2e privilege check needs root and setpriv (util-linux)\n');
    t.skip('needs root');
    return;
  }
  const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  if (sh([...asNobody, process.execPath, '-e', 'require("fs").accessSync(process.argv[1])', CLI]).status !== 0) {
    process.stderr.write(`SKIPPED LOUDLY: blocker-e2e privilege check: user nobody cannot read ${CLI} here\n`);
    t.skip('CLI not readable by nobody');
    return;
  }
  const r = sh([...asNobody, process.execPath, CLI, 'blocks', 'list', '--netns', SRV]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /run as root .*CAP_NET_ADMIN/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const n = cli('list', '--netns', `${PREFIX}-nope`);
  assert.equal(n.status, 1);
  assert.match(n.stderr, /network namespace ".*-nope" does not exist/);
});
