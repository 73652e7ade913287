/**
 * The tarpit redirect against the real kernel (root only; says SKIPPED loudly otherwise): two
 * network namespaces joined by a veth pair, IPv4 and IPv6 on it. The server namespace runs one node
 * listener on port 25 and one on the tarpit port 2626, each greeting with the port that accepted;
 * an agent in the client namespace connects from chosen source addresses. Per backend (nft, ipset,
 * iptables; a missing binary skips loudly): a blocked address's NEW connection to 25 lands on the
 * tarpit (IPv4 and IPv6) and is not reset by the input reject rule; an address not in the set (as a
 * whitelisted or own address never is) reaches 25; an established session of an address blocked
 * mid-session is reset; after `del` new connections reach 25 again; init is idempotent and re-makes
 * the rules when the tarpit changes; cleanup leaves nothing of ours (nft ruleset, iptables nat).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Blocker } from '../src/blocker/types.js';
import { createBlocker } from '../src/blocker/index.js';
import { Agent, AGENT, have, NodeChildren, sh } from './support/netns-nodes.js';

const isRoot = process.getuid?.() === 0;
const CLI = process.env.SMTPSTRIKE_CLI ?? 'dist/src/cli.js';
const TAG = `rd${process.pid % 100000}`;
const SRV = `${TAG}-srv`;
const CLIENT = `${TAG}-cli`;
const NET4 = '10.203.0';
const SERVER4 = `${NET4}.1`;
const NET6 = '2001:db8:5ea';
const SERVER6 = `${NET6}::1`;
const PORTS = [25, 587];
const TARPIT = 2626;

/** argv: JSON list of ports. Greets with the port that accepted; answers every line with 250. */
const LISTENER = `
const net = require('net');
const ports = JSON.parse(process.argv[1]);
let up = 0;
for (const p of ports) {
  net.createServer((s) => {
    s.on('error', () => {});
    s.write('220 port=' + p + '\\r\\n');
    s.on('data', () => s.write('250 ok\\r\\n'));
  }).listen(p, '::', () => { if (++up === ports.length) console.log('ready'); });
}`;

const nodes = new NodeChildren();
let agent: Agent;
let upOk = false;
let made = false;

function inNs(ns: string, ...args: string[]): string {
  const r = sh(['ip', 'netns', 'exec', ns, ...args]);
  return `${r.stdout}${r.stderr}`;
}

function teardown(): void {
  nodes.killAll();
  if (!made) return;
  made = false;
  const names = sh(['ip', 'netns', 'list'])
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]);
  for (const ns of [SRV, CLIENT]) if (names.includes(ns)) sh(['ip', 'netns', 'del', ns]);
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
  made = true;
  const cmds = [
    ['ip', 'netns', 'add', SRV],
    ['ip', 'netns', 'add', CLIENT],
    ['ip', 'link', 'add', `${TAG}s`, 'netns', SRV, 'type', 'veth', 'peer', 'name', `${TAG}c`, 'netns', CLIENT],
    ['ip', '-n', SRV, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', CLIENT, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', SRV, 'addr', 'add', `${SERVER4}/24`, 'dev', `${TAG}s`],
    ['ip', '-n', SRV, '-6', 'addr', 'add', `${SERVER6}/64`, 'dev', `${TAG}s`, 'nodad'],
    ...[2, 3, 4, 5].map((i) => ['ip', '-n', CLIENT, 'addr', 'add', `${NET4}.${i}/24`, 'dev', `${TAG}c`]),
    ...[2, 3, 4].map((i) => ['ip', '-n', CLIENT, '-6', 'addr', 'add', `${NET6}::${i}/64`, 'dev', `${TAG}c`, 'nodad']),
    ['ip', '-n', SRV, 'link', 'set', `${TAG}s`, 'up'],
    ['ip', '-n', CLIENT, 'link', 'set', `${TAG}c`, 'up'],
  ];
  for (const c of cmds) {
    const r = sh(c);
    assert.equal(r.status, 0, `${c.join(' ')}: ${r.stderr}`);
  }
  await nodes.start(SRV, LISTENER, [JSON.stringify([25, TARPIT])]);
  const a = await nodes.start(CLIENT, AGENT, []);
  agent = new Agent(a.child, a.lines, SERVER4);
  // Neighbour discovery on a fresh link: wait until IPv6 connects (a poll with a deadline).
  for (let i = 0; i < 50 && (await agent.probe(`${NET6}::3`, 25, SERVER6)) !== 'port=25'; i++) await new Promise((r) => setTimeout(r, 100));
  upOk = true;
});

after(() => {
  teardown();
  process.removeListener('exit', teardown);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
});

type Backend = 'nft' | 'ipset' | 'iptables';

const NEEDS: Record<Backend, string[]> = {
  nft: ['nft'],
  ipset: ['ipset', 'iptables', 'ip6tables'],
  iptables: ['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'],
};

/** The firewall as text (counters stripped): what init made. */
function snapshot(backend: Backend): string {
  if (backend === 'nft') return inNs(SRV, 'nft', '-t', 'list', 'table', 'inet', 'smtpstrike').replace(/packets \d+ bytes \d+/g, '');
  const ipt = (['iptables', 'ip6tables'] as const).map((c) => inNs(SRV, c, '-S') + inNs(SRV, c, '-t', 'nat', '-S')).join('');
  return backend === 'ipset' ? ipt + inNs(SRV, 'ipset', 'list', '-n') : ipt;
}

/** Everything of ours in the namespace's firewall: nft's ruleset (iptables-nft lives there too), iptables nat, ipsets. */
function traces(): string {
  const text = [
    have('nft') ? inNs(SRV, 'nft', 'list', 'ruleset') : '',
    have('iptables-save') ? inNs(SRV, 'iptables-save', '-t', 'nat') : '',
    have('ip6tables-save') ? inNs(SRV, 'ip6tables-save', '-t', 'nat') : '',
    have('ipset') ? inNs(SRV, 'ipset', 'list', '-n') : '',
  ].join('\n');
  return text
    .split('\n')
    .filter((l) => /smtpstrike|2626/i.test(l))
    .join('\n');
}

function make(backend: Backend, tarpit?: { host?: string; port: number }): Blocker {
  return createBlocker(backend, { ports: PORTS, netns: SRV, ...(tarpit ? { tarpit } : {}) });
}

const V4 = (i: number): string => `${NET4}.${i}`;
const V6 = (i: number): string => `${NET6}::${i}`;

for (const backend of ['nft', 'ipset', 'iptables'] as const) {
  test(`tarpit redirect e2e: ${backend}: blocked addresses' new connections land in the tarpit, others reach 25`, { timeout: 90_000 }, async (t) => {
    if (!isRoot) {
      process.stderr.write(`SKIPPED LOUDLY: tarpit-redirect-e2e (${backend}) needs root (network namespaces, firewall); run npm test as root\n`);
      t.skip('needs root');
      return;
    }
    const missing = NEEDS[backend].filter((c) => !have(c));
    if (missing.length > 0) {
      process.stderr.write(`SKIPPED LOUDLY: tarpit-redirect-e2e (${backend}): not installed: ${missing.join(', ')} (scripts/install-deps.sh testbed)\n`);
      t.skip(`missing ${missing.join(', ')}`);
      return;
    }
    assert.ok(upOk, 'namespaces up');
    const b = make(backend, { port: TARPIT });
    try {
      await b.cleanup();
      assert.equal(traces(), '', 'clean start');
      await b.init();
      const snap = snapshot(backend);
      assert.match(snap, /2626/);
      await make(backend, { port: TARPIT }).init();
      assert.equal(snapshot(backend), snap, 'init with the same tarpit is idempotent');

      assert.equal(await agent.probe(V4(3), 25), 'port=25', 'baseline');
      assert.equal(await agent.open('held', V4(4), 25), 'port=25', 'a session from .4 is open');

      await b.apply([
        { op: 'add', addr: V4(2), timeoutSec: 60 },
        { op: 'add', addr: V4(4), timeoutSec: 60 },
        { op: 'add', addr: V6(2), timeoutSec: 60 },
      ]);
      assert.equal(await agent.probe(V4(2), 25), 'port=2626', 'a blocked address lands in the tarpit (IPv4)');
      assert.equal(await agent.probe(V4(2), 587), 'port=2626', 'from every blocked port');
      assert.equal(await agent.probe(V6(2), 25, SERVER6), 'port=2626', 'a blocked address lands in the tarpit (IPv6)');
      // Only set members are redirected: an address that never enters the set (whitelisted, own) reaches 25.
      assert.equal(await agent.probe(V4(3), 25), 'port=25', 'an address not in the set reaches 25');
      assert.equal(await agent.probe(V4(5), 25), 'port=25');
      assert.equal(await agent.probe(V6(3), 25, SERVER6), 'port=25', 'an IPv6 address not in the set reaches 25');
      assert.equal(await agent.poke('held'), 'reset', 'the established session of an address blocked mid-session is reset');
      // A redirected session is not cut by the input reject rule: it reaches input with the tarpit port.
      assert.equal(await agent.open('tp', V4(2), 25), 'port=2626');
      assert.equal(await agent.poke('tp'), 'data', 'the tarpit session goes on');
      assert.equal(await agent.probe(V4(4), 25), 'port=2626', 'the address blocked mid-session: its next connection is tarpitted');

      await b.apply([
        { op: 'del', addr: V4(2) },
        { op: 'del', addr: V6(2) },
      ]);
      assert.equal(await agent.probe(V4(2), 25), 'port=25', 'after del: 25 again (IPv4)');
      assert.equal(await agent.probe(V6(2), 25, SERVER6), 'port=25', 'after del: 25 again (IPv6)');

      // A block that times out ends the redirect with it (iptables: at the next maintenance, filter and nat rule together).
      await b.apply([{ op: 'add', addr: V4(5), timeoutSec: 2 }]);
      const t0 = Date.now();
      assert.equal(await agent.probe(V4(5), 25), 'port=2626');
      await new Promise((r) => setTimeout(r, Math.max(0, 2300 - (Date.now() - t0))));
      if (backend === 'iptables') await b.maintain!();
      assert.equal(await agent.probe(V4(5), 25), 'port=25', 'the expired block no longer redirects');

      // The CLI reads the tarpit back.
      const ls = sh([process.execPath, CLI, 'blocks', 'list', '--json', '--netns', SRV, '--backend', backend]);
      assert.equal(ls.status, 0, ls.stderr);
      assert.deepEqual((JSON.parse(ls.stdout) as { tarpit: unknown }).tarpit, { host: null, port: TARPIT, families: [4, 6] });
      const lt = sh([process.execPath, CLI, 'blocks', 'list', '--netns', SRV, '--backend', backend]);
      assert.match(lt.stdout, /^redirected to tarpit :2626$/m);

      // The CLI without --tarpit adds and deletes with the tarpit installed (iptables: the nat rule too).
      const cadd = sh([process.execPath, CLI, 'blocks', 'add', V4(3), '--timeout', '60', '--netns', SRV, '--backend', backend]);
      assert.equal(cadd.status, 0, cadd.stderr);
      assert.equal(await agent.probe(V4(3), 25), 'port=2626', 'blocks add without --tarpit: tarpitted');
      const cdel = sh([process.execPath, CLI, 'blocks', 'del', V4(3), '--netns', SRV, '--backend', backend]);
      assert.equal(cdel.status, 0, cdel.stderr);
      assert.equal(await agent.probe(V4(3), 25), 'port=25', 'blocks del without --tarpit: 25 again');
      await b.apply([{ op: 'add', addr: V4(3), timeoutSec: 60 }]);
      const cflush = sh([process.execPath, CLI, 'blocks', 'flush', '--netns', SRV, '--backend', backend]);
      assert.equal(cflush.status, 0, cflush.stderr);
      assert.equal(await agent.probe(V4(3), 25), 'port=25', 'blocks flush: 25 again');

      // A tarpit host of one family: dnat for it, the other family stays rejected; init re-makes the rules.
      const d = make(backend, { host: SERVER4, port: TARPIT });
      await d.init();
      await d.apply([
        { op: 'add', addr: V4(2), timeoutSec: 60 },
        { op: 'add', addr: V6(2), timeoutSec: 60 },
      ]);
      assert.equal(await agent.probe(V4(2), 25), 'port=2626', 'dnat to the IPv4 host');
      assert.equal(await agent.probe(V6(2), 25, SERVER6), 'refused', 'IPv6 stays rejected with an IPv4 tarpit host');
      const snapD = snapshot(backend);
      await make(backend, { host: SERVER4, port: TARPIT }).init();
      assert.equal(snapshot(backend), snapD, 'idempotent with a host too');
      assert.deepEqual(await d.ruleTarpit!(), { host: SERVER4, port: TARPIT, families: [4] });

      // Without a tarpit: rejected, exactly as before, and no NAT rule of ours left.
      const plain = make(backend);
      await plain.init();
      assert.equal(await agent.probe(V4(2), 25), 'refused', 'no tarpit: rejected');
      assert.equal(await agent.probe(V4(3), 25), 'port=25');
      assert.doesNotMatch(snapshot(backend), /2626|prerouting|REDIRECT|DNAT/);
      assert.equal(await plain.ruleTarpit!(), null);

      await b.cleanup();
      assert.equal(traces(), '', 'cleanup leaves nothing of ours');
      assert.equal(await agent.probe(V4(2), 25), 'port=25');
    } finally {
      await b.cleanup().catch(() => undefined);
    }
  });
}
