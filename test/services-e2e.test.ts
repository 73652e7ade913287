/**
 * --services against the real kernel (root only; says SKIPPED loudly otherwise): two network
 * namespaces made for this run (server 10.231.7.1, client 10.231.7.2-4 over a veth pair), a tiny
 * node TCP server answering "220"/"* OK" on 25, 587, 143 and 110 in the server namespace, a node
 * agent in the client namespace connecting from a chosen source address. For each backend:
 * with --services smtp,imap a blocked address cannot connect to 143 (nor 25/587) while an
 * unblocked one can, and 110 (pop3 not listed) stays open; `smtpstrike blocks list` shows the
 * ports; with the default (smtp) the rule is re-made and 143 is open again to the same blocked
 * address while 587 stays closed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBlocker } from '../src/blocker/index.js';
import type { Blocker } from '../src/blocker/types.js';
import { blockPorts } from '../src/watch/services.js';
import { Agent, AGENT, have, LISTENER, NodeChildren, sh } from './support/netns-nodes.js';

const isRoot = process.getuid?.() === 0;
const CLI = process.env.SMTPSTRIKE_CLI ?? 'dist/src/cli.js';
const ID = `svcp${process.pid % 100000}`;
const SRV = `${ID}-s`;
const CLIENT = `${ID}-c`;
const NET = '10.231.7';
const SERVER = `${NET}.1`;
const BAD = `${NET}.2`;
const GOOD = `${NET}.3`;
const LISTEN = [25, 587, 143, 110];

const nodes = new NodeChildren();

let agent: Agent;
let upOk = false;

function teardown(): void {
  nodes.killAll();
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
  teardown();
  const cmds = [
    ['ip', 'netns', 'add', SRV],
    ['ip', 'netns', 'add', CLIENT],
    ['ip', 'link', 'add', `${ID}a`, 'netns', SRV, 'type', 'veth', 'peer', 'name', `${ID}b`, 'netns', CLIENT],
    ['ip', '-n', SRV, 'addr', 'add', `${SERVER}/24`, 'dev', `${ID}a`],
    ['ip', '-n', CLIENT, 'addr', 'add', `${BAD}/24`, 'dev', `${ID}b`],
    ['ip', '-n', CLIENT, 'addr', 'add', `${GOOD}/24`, 'dev', `${ID}b`],
    ...[SRV, CLIENT].flatMap((ns) => [
      ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', ns, 'link', 'set', `${ns === SRV ? `${ID}a` : `${ID}b`}`, 'up'],
    ]),
  ];
  for (const c of cmds) {
    const r = sh(c);
    assert.equal(r.status, 0, `${c.join(' ')}: ${r.stderr}`);
  }
  await nodes.start(SRV, LISTENER, [JSON.stringify(LISTEN)]);
  const a = await nodes.start(CLIENT, AGENT, []);
  agent = new Agent(a.child, a.lines, SERVER);
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

function cliList(backend: Backend): { ports: number[] | null; blocks: { addr: string }[] } {
  const r = sh([process.execPath, CLI, 'blocks', 'list', '--json', '--netns', SRV, '--backend', backend]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { ports: number[] | null; blocks: { addr: string }[] };
}

for (const backend of ['nft', 'ipset', 'iptables'] as const) {
  test(`services e2e (${backend}): --services smtp,imap closes 143 to a blocked address; the default leaves it open`, { timeout: 90_000 }, async (t) => {
    if (!isRoot) {
      process.stderr.write(`SKIPPED LOUDLY: services-e2e (${backend}) needs root (network namespaces, firewall)\n`);
      t.skip('needs root');
      return;
    }
    const missing = NEEDS[backend].filter((c) => !have(c));
    if (missing.length > 0) {
      process.stderr.write(`SKIPPED LOUDLY: services-e2e (${backend}): not installed: ${missing.join(', ')}\n`);
      t.skip(`missing ${missing.join(', ')}`);
      return;
    }
    assert.ok(upOk, 'namespaces up');
    const make = (services?: ('smtp' | 'imap' | 'pop3')[]): Blocker => createBlocker(backend, { ports: blockPorts([25, 587], services), netns: SRV });
    const withImap = make(['smtp', 'imap']);
    try {
      await withImap.cleanup();
      for (const p of LISTEN) assert.equal(await agent.probe(BAD, p), 'ok', `baseline ${p}`);

      await withImap.init();
      await withImap.apply([{ op: 'add', addr: BAD, timeoutSec: 120 }]);
      assert.equal(await agent.probe(BAD, 143), 'refused', 'IMAP closed to the blocked address');
      assert.equal(await agent.probe(BAD, 587), 'refused', 'SMTP too');
      assert.equal(await agent.probe(BAD, 25), 'refused');
      assert.equal(await agent.probe(BAD, 110), 'ok', 'POP3 is not in --services');
      assert.equal(await agent.probe(GOOD, 143), 'ok', 'an unblocked address logs in over IMAP');
      assert.equal(await agent.probe(GOOD, 587), 'ok');
      const l1 = cliList(backend);
      assert.deepEqual(l1.ports, [25, 143, 587, 993], 'blocks list shows the ports');
      assert.ok(l1.blocks.some((b) => b.addr === BAD));

      // A restart with the default services: init re-makes the rule for 25, 587; the block stays.
      const smtpOnly = make();
      await smtpOnly.init();
      assert.equal(await agent.probe(BAD, 143), 'ok', 'default (smtp): 143 stays open for the blocked address');
      assert.equal(await agent.probe(BAD, 587), 'refused', 'and SMTP is still closed to it');
      assert.deepEqual(cliList(backend).ports, [25, 587]);

      await smtpOnly.cleanup();
      assert.equal(cliList(backend).ports, null, 'no rule after cleanup');
      assert.equal(await agent.probe(BAD, 587), 'ok');
    } finally {
      await withImap.cleanup().catch(() => undefined);
    }
  });
}
